package eas

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTP status codes ActiveSync servers answer with (MS-ASHTTP).
// 449 and 451 are Microsoft extensions that net/http has no names for.
const (
	HTTPUnauthorized       = http.StatusUnauthorized // credentials missing, wrong or expired
	HTTPForbidden          = http.StatusForbidden    // user not enabled for ActiveSync, or device blocked
	HTTPRetryWith          = 449                     // "Retry With": provision, then repeat the request
	HTTPRedirect           = 451                     // mailbox is served elsewhere: see X-MS-Location
	HTTPServerError        = http.StatusInternalServerError
	HTTPServiceUnavailable = http.StatusServiceUnavailable // busy or throttled: see Retry-After
)

// Response header names that go with the status codes above.
const (
	HeaderLocation   = "X-MS-Location"
	HeaderRetryAfter = "Retry-After"
)

// Redirect451 answers with 451 and the URL in X-MS-Location
// (MS-ASHTTP 3.1.5.2.2). The location must be an absolute http(s) URL, as
// the device sends every later request there.
func Redirect451(w http.ResponseWriter, location string) error {
	if err := checkLocation(location); err != nil {
		return fmt.Errorf("eas: redirect: %w", err)
	}
	w.Header().Set(HeaderLocation, location)
	w.WriteHeader(HTTPRedirect)
	return nil
}

// ParseRedirect returns the X-MS-Location of a 451 response. It reports
// false for any other status and for a 451 without a usable location, in
// which case MS-ASHTTP has the device run Autodiscover again.
func ParseRedirect(resp *http.Response) (string, bool) {
	if resp == nil || resp.StatusCode != HTTPRedirect {
		return "", false
	}
	v := headerValues(resp.Header, HeaderLocation)
	if len(v) == 0 {
		return "", false
	}
	loc := strings.TrimSpace(v[0])
	if checkLocation(loc) != nil {
		return "", false
	}
	return loc, true
}

func checkLocation(loc string) error {
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("location: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("location %q: want an absolute http or https URL", clip(loc))
	}
	return nil
}

// ServiceUnavailable answers with 503 and, when retryAfter is positive, a
// Retry-After in whole seconds, rounded up so a device never comes back early.
func ServiceUnavailable(w http.ResponseWriter, retryAfter time.Duration) {
	if retryAfter > 0 {
		secs := (retryAfter + time.Second - 1) / time.Second
		w.Header().Set(HeaderRetryAfter, strconv.FormatInt(int64(secs), 10))
	}
	w.WriteHeader(HTTPServiceUnavailable)
}

// maxRetryAfter caps what ParseRetryAfter returns, so that a hostile or
// broken server cannot park a device for years.
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads Retry-After from a response, in seconds or as an
// HTTP date relative to now. A date in the past gives zero.
func ParseRetryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := headerValues(resp.Header, HeaderRetryAfter)
	if len(v) == 0 {
		return 0, false
	}
	s := strings.TrimSpace(v[0])
	if secs, err := strconv.ParseUint(s, 10, 32); err == nil {
		return min(time.Duration(secs)*time.Second, maxRetryAfter), true
	}
	t, err := http.ParseTime(s)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// Status is an ActiveSync Status element value. Values from 101 up are the
// common codes that any command may return (MS-ASCMD 2.2.2); values below
// 101 mean different things per command and print as numbers, except 1,
// which is success in every command.
type Status int

// The common status codes, named as MS-ASCMD names them. 157 to 159 and 180
// to 182 are unassigned; 178 to 184 were added with protocol 16.0.
const (
	StatusSuccess                                         Status = 1
	StatusInvalidContent                                  Status = 101
	StatusInvalidWBXML                                    Status = 102
	StatusInvalidXML                                      Status = 103
	StatusInvalidDateTime                                 Status = 104
	StatusInvalidCombinationOfIDs                         Status = 105
	StatusInvalidIDs                                      Status = 106
	StatusInvalidMIME                                     Status = 107
	StatusDeviceIDMissingOrInvalid                        Status = 108
	StatusDeviceTypeMissingOrInvalid                      Status = 109
	StatusServerError                                     Status = 110
	StatusServerErrorRetryLater                           Status = 111
	StatusActiveDirectoryAccessDenied                     Status = 112
	StatusMailboxQuotaExceeded                            Status = 113
	StatusMailboxServerOffline                            Status = 114
	StatusSendQuotaExceeded                               Status = 115
	StatusMessageRecipientUnresolved                      Status = 116
	StatusMessageReplyNotAllowed                          Status = 117
	StatusMessagePreviouslySent                           Status = 118
	StatusMessageHasNoRecipient                           Status = 119
	StatusMailSubmissionFailed                            Status = 120
	StatusMessageReplyFailed                              Status = 121
	StatusAttachmentIsTooLarge                            Status = 122
	StatusUserHasNoMailbox                                Status = 123
	StatusUserCannotBeAnonymous                           Status = 124
	StatusUserPrincipalCouldNotBeFound                    Status = 125
	StatusUserDisabledForSync                             Status = 126
	StatusUserOnNewMailboxCannotSync                      Status = 127
	StatusUserOnLegacyMailboxCannotSync                   Status = 128
	StatusDeviceIsBlockedForThisUser                      Status = 129
	StatusAccessDenied                                    Status = 130
	StatusAccountDisabled                                 Status = 131
	StatusSyncStateNotFound                               Status = 132
	StatusSyncStateLocked                                 Status = 133
	StatusSyncStateCorrupt                                Status = 134
	StatusSyncStateAlreadyExists                          Status = 135
	StatusSyncStateVersionInvalid                         Status = 136
	StatusCommandNotSupported                             Status = 137
	StatusVersionNotSupported                             Status = 138
	StatusDeviceNotFullyProvisionable                     Status = 139
	StatusRemoteWipeRequested                             Status = 140
	StatusLegacyDeviceOnStrictPolicy                      Status = 141
	StatusDeviceNotProvisioned                            Status = 142
	StatusPolicyRefresh                                   Status = 143
	StatusInvalidPolicyKey                                Status = 144
	StatusExternallyManagedDevicesNotAllowed              Status = 145
	StatusNoRecurrenceInCalendar                          Status = 146
	StatusUnexpectedItemClass                             Status = 147
	StatusRemoteServerHasNoSSL                            Status = 148
	StatusInvalidStoredRequest                            Status = 149
	StatusItemNotFound                                    Status = 150
	StatusTooManyFolders                                  Status = 151
	StatusNoFoldersFound                                  Status = 152
	StatusItemsLostAfterMove                              Status = 153
	StatusFailureInMoveOperation                          Status = 154
	StatusMoveCommandDisallowedForNonPersistentMoveAction Status = 155
	StatusMoveCommandInvalidDestinationFolder             Status = 156
	StatusAvailabilityTooManyRecipients                   Status = 160
	StatusAvailabilityDLLimitReached                      Status = 161
	StatusAvailabilityTransientFailure                    Status = 162
	StatusAvailabilityFailure                             Status = 163
	StatusBodyPartPreferenceTypeNotSupported              Status = 164
	StatusDeviceInformationRequired                       Status = 165
	StatusInvalidAccountID                                Status = 166
	StatusAccountSendDisabled                             Status = 167
	StatusIRMFeatureDisabled                              Status = 168
	StatusIRMTransientError                               Status = 169
	StatusIRMPermanentError                               Status = 170
	StatusIRMInvalidTemplateID                            Status = 171
	StatusIRMOperationNotPermitted                        Status = 172
	StatusNoPicture                                       Status = 173
	StatusPictureTooLarge                                 Status = 174
	StatusPictureLimitReached                             Status = 175
	StatusBodyPartConversationTooLarge                    Status = 176
	StatusMaximumDevicesReached                           Status = 177
	StatusInvalidMimeBodyCombination                      Status = 178
	StatusInvalidSmartForwardParameters                   Status = 179
	StatusInvalidRecipients                               Status = 183
	StatusOneOrMoreExceptionsFailed                       Status = 184
)

// statusNames holds the names MS-ASCMD uses, underscores included, so that
// logs match what Exchange and its documentation print.
var statusNames = map[Status]string{
	StatusSuccess:                                         "Success",
	StatusInvalidContent:                                  "InvalidContent",
	StatusInvalidWBXML:                                    "InvalidWBXML",
	StatusInvalidXML:                                      "InvalidXML",
	StatusInvalidDateTime:                                 "InvalidDateTime",
	StatusInvalidCombinationOfIDs:                         "InvalidCombinationOfIDs",
	StatusInvalidIDs:                                      "InvalidIDs",
	StatusInvalidMIME:                                     "InvalidMIME",
	StatusDeviceIDMissingOrInvalid:                        "DeviceIdMissingOrInvalid",
	StatusDeviceTypeMissingOrInvalid:                      "DeviceTypeMissingOrInvalid",
	StatusServerError:                                     "ServerError",
	StatusServerErrorRetryLater:                           "ServerErrorRetryLater",
	StatusActiveDirectoryAccessDenied:                     "ActiveDirectoryAccessDenied",
	StatusMailboxQuotaExceeded:                            "MailboxQuotaExceeded",
	StatusMailboxServerOffline:                            "MailboxServerOffline",
	StatusSendQuotaExceeded:                               "SendQuotaExceeded",
	StatusMessageRecipientUnresolved:                      "MessageRecipientUnresolved",
	StatusMessageReplyNotAllowed:                          "MessageReplyNotAllowed",
	StatusMessagePreviouslySent:                           "MessagePreviouslySent",
	StatusMessageHasNoRecipient:                           "MessageHasNoRecipient",
	StatusMailSubmissionFailed:                            "MailSubmissionFailed",
	StatusMessageReplyFailed:                              "MessageReplyFailed",
	StatusAttachmentIsTooLarge:                            "AttachmentIsTooLarge",
	StatusUserHasNoMailbox:                                "UserHasNoMailbox",
	StatusUserCannotBeAnonymous:                           "UserCannotBeAnonymous",
	StatusUserPrincipalCouldNotBeFound:                    "UserPrincipalCouldNotBeFound",
	StatusUserDisabledForSync:                             "UserDisabledForSync",
	StatusUserOnNewMailboxCannotSync:                      "UserOnNewMailboxCannotSync",
	StatusUserOnLegacyMailboxCannotSync:                   "UserOnLegacyMailboxCannotSync",
	StatusDeviceIsBlockedForThisUser:                      "DeviceIsBlockedForThisUser",
	StatusAccessDenied:                                    "AccessDenied",
	StatusAccountDisabled:                                 "AccountDisabled",
	StatusSyncStateNotFound:                               "SyncStateNotFound",
	StatusSyncStateLocked:                                 "SyncStateLocked",
	StatusSyncStateCorrupt:                                "SyncStateCorrupt",
	StatusSyncStateAlreadyExists:                          "SyncStateAlreadyExists",
	StatusSyncStateVersionInvalid:                         "SyncStateVersionInvalid",
	StatusCommandNotSupported:                             "CommandNotSupported",
	StatusVersionNotSupported:                             "VersionNotSupported",
	StatusDeviceNotFullyProvisionable:                     "DeviceNotFullyProvisionable",
	StatusRemoteWipeRequested:                             "RemoteWipeRequested",
	StatusLegacyDeviceOnStrictPolicy:                      "LegacyDeviceOnStrictPolicy",
	StatusDeviceNotProvisioned:                            "DeviceNotProvisioned",
	StatusPolicyRefresh:                                   "PolicyRefresh",
	StatusInvalidPolicyKey:                                "InvalidPolicyKey",
	StatusExternallyManagedDevicesNotAllowed:              "ExternallyManagedDevicesNotAllowed",
	StatusNoRecurrenceInCalendar:                          "NoRecurrenceInCalendar",
	StatusUnexpectedItemClass:                             "UnexpectedItemClass",
	StatusRemoteServerHasNoSSL:                            "RemoteServerHasNoSSL",
	StatusInvalidStoredRequest:                            "InvalidStoredRequest",
	StatusItemNotFound:                                    "ItemNotFound",
	StatusTooManyFolders:                                  "TooManyFolders",
	StatusNoFoldersFound:                                  "NoFoldersFound",
	StatusItemsLostAfterMove:                              "ItemsLostAfterMove",
	StatusFailureInMoveOperation:                          "FailureInMoveOperation",
	StatusMoveCommandDisallowedForNonPersistentMoveAction: "MoveCommandDisallowedForNonPersistentMoveAction",
	StatusMoveCommandInvalidDestinationFolder:             "MoveCommandInvalidDestinationFolder",
	StatusAvailabilityTooManyRecipients:                   "AvailabilityTooManyRecipients",
	StatusAvailabilityDLLimitReached:                      "AvailabilityDLLimitReached",
	StatusAvailabilityTransientFailure:                    "AvailabilityTransientFailure",
	StatusAvailabilityFailure:                             "AvailabilityFailure",
	StatusBodyPartPreferenceTypeNotSupported:              "BodyPartPreferenceTypeNotSupported",
	StatusDeviceInformationRequired:                       "DeviceInformationRequired",
	StatusInvalidAccountID:                                "InvalidAccountId",
	StatusAccountSendDisabled:                             "AccountSendDisabled",
	StatusIRMFeatureDisabled:                              "IRM_FeatureDisabled",
	StatusIRMTransientError:                               "IRM_TransientError",
	StatusIRMPermanentError:                               "IRM_PermanentError",
	StatusIRMInvalidTemplateID:                            "IRM_InvalidTemplateID",
	StatusIRMOperationNotPermitted:                        "IRM_OperationNotPermitted",
	StatusNoPicture:                                       "NoPicture",
	StatusPictureTooLarge:                                 "PictureTooLarge",
	StatusPictureLimitReached:                             "PictureLimitReached",
	StatusBodyPartConversationTooLarge:                    "BodyPart_ConversationTooLarge",
	StatusMaximumDevicesReached:                           "MaximumDevicesReached",
	StatusInvalidMimeBodyCombination:                      "InvalidMimeBodyCombination",
	StatusInvalidSmartForwardParameters:                   "InvalidSmartForwardParameters",
	StatusInvalidRecipients:                               "InvalidRecipients",
	StatusOneOrMoreExceptionsFailed:                       "OneOrMoreExceptionsFailed",
}

// String returns the MS-ASCMD name, or Status(n) for a value without one.
func (s Status) String() string {
	if name, ok := statusNames[s]; ok {
		return name
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// NeedsProvision reports whether the device must run Provision before it
// retries: its policy is missing (142), changed (143) or not the current
// one (144). 140 also leads to a Provision, but to deliver a wipe, and 141
// cannot be cured by provisioning, so callers handle both themselves.
func (s Status) NeedsProvision() bool {
	switch s {
	case StatusDeviceNotProvisioned, StatusPolicyRefresh, StatusInvalidPolicyKey:
		return true
	}
	return false
}
