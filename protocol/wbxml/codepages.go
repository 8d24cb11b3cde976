package wbxml

import "fmt"

// Tag identifies an element by its code page and its token (the low six
// bits of the tag byte, 0x05-0x3F).
type Tag struct {
	Page  uint8
	Token uint8
}

// String returns "Page:Name", or "Page:0xNN" for a token the page does not
// define, so that unknown tags stay printable and round-trip.
func (t Tag) String() string {
	p := pageByID(t.Page)
	if p == nil {
		return fmt.Sprintf("0x%02X:0x%02X", t.Page, t.Token)
	}
	if name := p.tagName(t.Token); name != "" {
		return p.Name + ":" + name
	}
	return fmt.Sprintf("%s:0x%02X", p.Name, t.Token)
}

// Name returns the element name without its page, or "" when unknown.
func (t Tag) Name() string {
	if p := pageByID(t.Page); p != nil {
		return p.tagName(t.Token)
	}
	return ""
}

// CodePage is one ActiveSync WBXML code page (MS-ASWBXML section 2.1.2.1).
type CodePage struct {
	ID   uint8
	Name string // the XML namespace used by MS-ASCMD, e.g. "AirSyncBase"
	// tags holds the element names for tokens 0x05-0x3F; "" marks a token
	// the page does not define.
	tags [59]string
}

func (p *CodePage) tagName(token uint8) string {
	if token < 0x05 || token > 0x3F {
		return ""
	}
	return p.tags[token-0x05]
}

// Tags lists the defined tags of the page in token order.
func (p *CodePage) Tags() []Tag {
	var out []Tag
	for i, n := range p.tags {
		if n != "" {
			out = append(out, Tag{Page: p.ID, Token: uint8(i + 0x05)})
		}
	}
	return out
}

// pageDefs lists the code pages of protocol 16.1 with the names MS-ASWBXML
// gives their tokens, starting at token 0x05. Tokens the specification
// marks "not used" are kept because 12.1 clients still send some of them.
var pageDefs = []struct {
	id    uint8
	name  string
	names []string
}{
	{0, "AirSync", []string{"Sync", "Responses", "Add", "Change", "Delete", "Fetch", "SyncKey", "ClientId", "ServerId", "Status", "Collection", "Class", "Version", "CollectionId", "GetChanges", "MoreAvailable", "WindowSize", "Commands", "Options", "FilterType", "Truncation", "RTFTruncation", "Conflict", "Collections", "ApplicationData", "DeletesAsMoves", "NotifyGUID", "Supported", "SoftDelete", "MIMESupport", "MIMETruncation", "Wait", "Limit", "Partial", "ConversationMode", "MaxItems", "HeartbeatInterval"}},
	{1, "Contacts", []string{"Anniversary", "AssistantName", "AssistantPhoneNumber", "Birthday", "Body", "BodySize", "BodyTruncated", "Business2PhoneNumber", "BusinessAddressCity", "BusinessAddressCountry", "BusinessAddressPostalCode", "BusinessAddressState", "BusinessAddressStreet", "BusinessFaxNumber", "BusinessPhoneNumber", "CarPhoneNumber", "Categories", "Category", "Children", "Child", "CompanyName", "Department", "Email1Address", "Email2Address", "Email3Address", "FileAs", "FirstName", "Home2PhoneNumber", "HomeAddressCity", "HomeAddressCountry", "HomeAddressPostalCode", "HomeAddressState", "HomeAddressStreet", "HomeFaxNumber", "HomePhoneNumber", "JobTitle", "LastName", "MiddleName", "MobilePhoneNumber", "OfficeLocation", "OtherAddressCity", "OtherAddressCountry", "OtherAddressPostalCode", "OtherAddressState", "OtherAddressStreet", "PagerNumber", "RadioPhoneNumber", "Spouse", "Suffix", "Title", "WebPage", "YomiCompanyName", "YomiFirstName", "YomiLastName", "CompressedRTF", "Picture", "Alias", "WeightedRank"}},
	{2, "Email", []string{"Attachment", "Attachments", "AttName", "AttSize", "Att0Id", "AttMethod", "AttRemoved", "Body", "BodySize", "BodyTruncated", "DateReceived", "DisplayName", "DisplayTo", "Importance", "MessageClass", "Subject", "Read", "To", "Cc", "From", "ReplyTo", "AllDayEvent", "Categories", "Category", "DtStamp", "EndTime", "InstanceType", "BusyStatus", "Location", "MeetingRequest", "Organizer", "RecurrenceId", "Reminder", "ResponseRequested", "Recurrences", "Recurrence", "Type", "Until", "Occurrences", "Interval", "DayOfWeek", "DayOfMonth", "WeekOfMonth", "MonthOfYear", "StartTime", "Sensitivity", "TimeZone", "GlobalObjId", "ThreadTopic", "MIMEData", "MIMETruncated", "MIMESize", "InternetCPID", "Flag", "Status", "ContentClass", "FlagType", "CompleteTime", "DisallowNewTimeProposal"}},
	{3, "AirNotify", []string{"Notify", "Notification", "Version", "Lifetime", "DeviceInfo", "Enable", "Folder", "ServerId", "DeviceAddress", "ValidCarrierProfiles", "CarrierProfile", "Status", "Responses", "Devices", "Device", "Id", "Expiry", "NotifyGUID", "DeviceFriendlyName"}},
	{4, "Calendar", []string{"TimeZone", "AllDayEvent", "Attendees", "Attendee", "Email", "Name", "Body", "BodyTruncated", "BusyStatus", "Categories", "Category", "CompressedRTF", "DtStamp", "EndTime", "Exception", "Exceptions", "Deleted", "ExceptionStartTime", "Location", "MeetingStatus", "OrganizerEmail", "OrganizerName", "Recurrence", "Type", "Until", "Occurrences", "Interval", "DayOfWeek", "DayOfMonth", "WeekOfMonth", "MonthOfYear", "Reminder", "Sensitivity", "Subject", "StartTime", "UID", "AttendeeStatus", "AttendeeType", "Attachment", "Attachments", "AttName", "AttSize", "AttOid", "AttMethod", "AttRemoved", "DisplayName", "DisallowNewTimeProposal", "ResponseRequested", "AppointmentReplyTime", "ResponseType", "CalendarType", "IsLeapMonth", "FirstDayOfWeek", "OnlineMeetingConfLink", "OnlineMeetingExternalLink", "ClientUid"}},
	{5, "Move", []string{"MoveItems", "Move", "SrcMsgId", "SrcFldId", "DstFldId", "Response", "Status", "DstMsgId"}},
	{6, "GetItemEstimate", []string{"GetItemEstimate", "Version", "Collections", "Collection", "Class", "CollectionId", "DateTime", "Estimate", "Response", "Status"}},
	{7, "FolderHierarchy", []string{"Folders", "Folder", "DisplayName", "ServerId", "ParentId", "Type", "Response", "Status", "ContentClass", "Changes", "Add", "Delete", "Update", "SyncKey", "FolderCreate", "FolderDelete", "FolderUpdate", "FolderSync", "Count", "Version"}},
	{8, "MeetingResponse", []string{"CalendarId", "CollectionId", "MeetingResponse", "RequestId", "Request", "Result", "Status", "UserResponse", "Version", "InstanceId", "", "", "", "SendResponse"}},
	{9, "Tasks", []string{"Body", "BodySize", "BodyTruncated", "Categories", "Category", "Complete", "DateCompleted", "DueDate", "UtcDueDate", "Importance", "Recurrence", "Type", "Start", "Until", "Occurrences", "Interval", "DayOfMonth", "DayOfWeek", "WeekOfMonth", "MonthOfYear", "Regenerate", "DeadOccur", "ReminderSet", "ReminderTime", "Sensitivity", "StartDate", "UtcStartDate", "Subject", "CompressedRTF", "OrdinalDate", "SubOrdinalDate", "CalendarType", "IsLeapMonth", "FirstDayOfWeek"}},
	{10, "ResolveRecipients", []string{"ResolveRecipients", "Response", "Status", "Type", "Recipient", "DisplayName", "EmailAddress", "Certificates", "Certificate", "MiniCertificate", "Options", "To", "CertificateRetrieval", "RecipientCount", "MaxCertificates", "MaxAmbiguousRecipients", "CertificateCount", "Availability", "StartTime", "EndTime", "MergedFreeBusy", "Picture", "MaxSize", "Data", "MaxPictures"}},
	{11, "ValidateCert", []string{"ValidateCert", "Certificates", "Certificate", "CertificateChain", "CheckCRL", "Status"}},
	{12, "Contacts2", []string{"CustomerId", "GovernmentId", "IMAddress", "IMAddress2", "IMAddress3", "ManagerName", "CompanyMainPhone", "AccountName", "NickName", "MMS"}},
	{13, "Ping", []string{"Ping", "AutdState", "Status", "HeartbeatInterval", "Folders", "Folder", "Id", "Class", "MaxFolders"}},
	{14, "Provision", []string{"Provision", "Policies", "Policy", "PolicyType", "PolicyKey", "Data", "Status", "RemoteWipe", "EASProvisionDoc", "DevicePasswordEnabled", "AlphanumericDevicePasswordRequired", "RequireStorageCardEncryption", "PasswordRecoveryEnabled", "DocumentBrowseEnabled", "AttachmentsEnabled", "MinDevicePasswordLength", "MaxInactivityTimeDeviceLock", "MaxDevicePasswordFailedAttempts", "MaxAttachmentSize", "AllowSimpleDevicePassword", "DevicePasswordExpiration", "DevicePasswordHistory", "AllowStorageCard", "AllowCamera", "RequireDeviceEncryption", "AllowUnsignedApplications", "AllowUnsignedInstallationPackages", "MinDevicePasswordComplexCharacters", "AllowWiFi", "AllowTextMessaging", "AllowPOPIMAPEmail", "AllowBluetooth", "AllowIrDA", "RequireManualSyncWhenRoaming", "AllowDesktopSync", "MaxCalendarAgeFilter", "AllowHTMLEmail", "MaxEmailAgeFilter", "MaxEmailBodyTruncationSize", "MaxEmailHTMLBodyTruncationSize", "RequireSignedSMIMEMessages", "RequireEncryptedSMIMEMessages", "RequireSignedSMIMEAlgorithm", "RequireEncryptionSMIMEAlgorithm", "AllowSMIMEEncryptionAlgorithmNegotiation", "AllowSMIMESoftCerts", "AllowBrowser", "AllowConsumerEmail", "AllowRemoteDesktop", "AllowInternetSharing", "UnapprovedInROMApplicationList", "ApplicationName", "ApprovedApplicationList", "Hash", "AccountOnlyRemoteWipe"}},
	{15, "Search", []string{"Search", "Stores", "Store", "Name", "Query", "Options", "Range", "Status", "Response", "Result", "Properties", "Total", "EqualTo", "Value", "And", "Or", "FreeText", "SubstringOp", "DeepTraversal", "LongId", "RebuildResults", "LessThan", "GreaterThan", "Schema", "Supported", "UserName", "Password", "ConversationId", "Picture", "MaxSize", "MaxPictures"}},
	{16, "GAL", []string{"DisplayName", "Phone", "Office", "Title", "Company", "Alias", "FirstName", "LastName", "HomePhone", "MobilePhone", "EmailAddress", "Picture", "Status", "Data"}},
	{17, "AirSyncBase", []string{"BodyPreference", "Type", "TruncationSize", "AllOrNone", "", "Body", "Data", "EstimatedDataSize", "Truncated", "Attachments", "Attachment", "DisplayName", "FileReference", "Method", "ContentId", "ContentLocation", "IsInline", "NativeBodyType", "ContentType", "Preview", "BodyPartPreference", "BodyPart", "Status", "Add", "Delete", "ClientId", "Content", "Location", "Annotation", "Street", "City", "State", "Country", "PostalCode", "Latitude", "Longitude", "Accuracy", "Altitude", "AltitudeAccuracy", "LocationUri", "InstanceId"}},
	{18, "Settings", []string{"Settings", "Status", "Get", "Set", "Oof", "OofState", "StartTime", "EndTime", "OofMessage", "AppliesToInternal", "AppliesToExternalKnown", "AppliesToExternalUnknown", "Enabled", "ReplyMessage", "BodyType", "DevicePassword", "Password", "DeviceInformation", "Model", "IMEI", "FriendlyName", "OS", "OSLanguage", "PhoneNumber", "UserInformation", "EmailAddresses", "SmtpAddress", "UserAgent", "EnableOutboundSMS", "MobileOperator", "PrimarySmtpAddress", "Accounts", "Account", "AccountId", "AccountName", "UserDisplayName", "SendDisabled", "", "RightsManagementInformation"}},
	{19, "DocumentLibrary", []string{"LinkId", "DisplayName", "IsFolder", "CreationDate", "LastModifiedDate", "IsHidden", "ContentLength", "ContentType"}},
	{20, "ItemOperations", []string{"ItemOperations", "Fetch", "Store", "Options", "Range", "Total", "Properties", "Data", "Status", "Response", "Version", "Schema", "Part", "EmptyFolderContents", "DeleteSubFolders", "UserName", "Password", "Move", "DstFldId", "ConversationId", "MoveAlways"}},
	{21, "ComposeMail", []string{"SendMail", "SmartForward", "SmartReply", "SaveInSentItems", "ReplaceMime", "", "Source", "FolderId", "ItemId", "LongId", "InstanceId", "Mime", "ClientId", "Status", "AccountId", "", "Forwardees", "Forwardee", "ForwardeeName", "ForwardeeEmail"}},
	{22, "Email2", []string{"UmCallerID", "UmUserNotes", "UmAttDuration", "UmAttOrder", "ConversationId", "ConversationIndex", "LastVerbExecuted", "LastVerbExecutionTime", "ReceivedAsBcc", "Sender", "CalendarType", "IsLeapMonth", "AccountId", "FirstDayOfWeek", "MeetingMessageType", "", "IsDraft", "Bcc", "Send"}},
	{23, "Notes", []string{"Subject", "MessageClass", "LastModifiedDate", "Categories", "Category"}},
	{24, "RightsManagement", []string{"RightsManagementSupport", "RightsManagementTemplates", "RightsManagementTemplate", "RightsManagementLicense", "EditAllowed", "ReplyAllowed", "ReplyAllAllowed", "ForwardAllowed", "ModifyRecipientsAllowed", "ExtractAllowed", "PrintAllowed", "ExportAllowed", "ProgrammaticAccessAllowed", "Owner", "ContentExpiryDate", "TemplateID", "TemplateName", "TemplateDescription", "ContentOwner", "RemoveRightsManagementDistribution"}},
	{25, "Find", []string{"Find", "SearchId", "ExecuteSearch", "MailBoxSearchCriterion", "Query", "Status", "FreeText", "Options", "Range", "DeepTraversal", "", "", "Response", "Result", "Properties", "Preview", "HasAttachments", "Total", "DisplayCc", "DisplayBcc", "GalSearchCriterion"}},
}

// conventionallyOpaque lists the elements whose content ActiveSync peers
// send as OPAQUE (binary MIME, conversation ids, pictures). Their XML form
// is base64, as libwbxml writes it.
var conventionallyOpaque = map[string]bool{
	"ComposeMail:Mime":              true,
	"Email2:ConversationId":         true,
	"Email2:ConversationIndex":      true,
	"ItemOperations:ConversationId": true,
	"Search:ConversationId":         true,
	"AirSyncBase:Content":           true,
	"GAL:Data":                      true,
	"ResolveRecipients:Data":        true,
}

// ConventionallyOpaque reports whether peers send t's content as opaque data.
func ConventionallyOpaque(t Tag) bool { return conventionallyOpaque[t.String()] }

// codePages is built once from pageDefs; it is read-only afterwards.
var codePages, tagsByName = buildPages()

func buildPages() ([]*CodePage, map[string]Tag) {
	pages := make([]*CodePage, 0, len(pageDefs))
	byName := make(map[string]Tag)
	for i, d := range pageDefs {
		if int(d.id) != i {
			panic(fmt.Sprintf("wbxml: code page %s out of order", d.name))
		}
		p := &CodePage{ID: d.id, Name: d.name}
		for j, n := range d.names {
			p.tags[j] = n
			if n != "" {
				byName[d.name+":"+n] = Tag{Page: d.id, Token: uint8(j + 0x05)}
			}
		}
		pages = append(pages, p)
	}
	return pages, byName
}

func pageByID(id uint8) *CodePage {
	if int(id) < len(codePages) {
		return codePages[id]
	}
	return nil
}

// Pages returns every ActiveSync code page in ID order.
func Pages() []*CodePage { return codePages }

// PageByName returns the code page with the given namespace name.
func PageByName(name string) (*CodePage, bool) {
	for _, p := range codePages {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// TagByName looks a tag up by "Page:Name", e.g. "AirSyncBase:FileReference".
func TagByName(qualified string) (Tag, bool) {
	t, ok := tagsByName[qualified]
	return t, ok
}

// MustTag is TagByName for names known at compile time; it panics on a typo.
func MustTag(qualified string) Tag {
	t, ok := tagsByName[qualified]
	if !ok {
		panic("wbxml: unknown tag " + qualified)
	}
	return t
}
