package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// SyncRequest is a Sync command request. An empty request (no
// Collections) asks the server to reuse the previous one.
type SyncRequest struct {
	XMLName           struct{}         `wbxml:"AirSync:Sync"`
	Collections       []SyncCollection `wbxml:"Collections>Collection,omitempty"`
	Wait              int              `wbxml:"Wait,omitempty"`
	HeartbeatInterval int              `wbxml:"HeartbeatInterval,omitempty"`
	WindowSize        int              `wbxml:"WindowSize,omitempty"`
	Partial           bool             `wbxml:"Partial,empty"`
	Unknown           []*wbxml.Node    `wbxml:",any"`
}

// SyncCollection is a Collection in a request, in the strict order of
// MS-ASCMD 2.2.3.29.2. Class is used by protocol 12.1 only.
type SyncCollection struct {
	Class            string        `wbxml:"Class,omitempty"`
	SyncKey          string        `wbxml:"SyncKey"`
	CollectionId     string        `wbxml:"CollectionId"`
	Supported        *wbxml.Node   `wbxml:"Supported,omitempty"` // kept as a raw subtree
	DeletesAsMoves   *bool         `wbxml:"DeletesAsMoves,omitempty"`
	GetChanges       *string       `wbxml:"GetChanges,omitempty"` // see WantsChanges
	WindowSize       int           `wbxml:"WindowSize,omitempty"`
	ConversationMode *bool         `wbxml:"ConversationMode,omitempty"`
	Options          []SyncOptions `wbxml:"Options"`
	Commands         *SyncCommands `wbxml:"Commands,omitempty"`
	Unknown          []*wbxml.Node `wbxml:",any"`
}

// WantsChanges reports whether the client asks for server changes:
// an empty GetChanges element means true, and an absent one means true
// unless SyncKey is "0" (MS-ASCMD 2.2.3.84).
func (c *SyncCollection) WantsChanges() bool {
	if c.GetChanges == nil {
		return c.SyncKey != "0"
	}
	return *c.GetChanges != "0"
}

// Filter types for SyncOptions.FilterType (MS-ASCMD 2.2.3.68.2).
const (
	FilterAll       = 0
	FilterOneDay    = 1
	FilterThreeDays = 2
	FilterOneWeek   = 3
	FilterTwoWeeks  = 4
	FilterOneMonth  = 5
)

// SyncOptions are a collection's Options. MIMESupport 2 asks for MIME
// bodies of every message (airsyncbase:BodyPreference Type 4).
type SyncOptions struct {
	Class          string           `wbxml:"Class,omitempty"`
	FilterType     *int             `wbxml:"FilterType,omitempty"`
	Conflict       *int             `wbxml:"Conflict,omitempty"`
	MIMESupport    *int             `wbxml:"MIMESupport,omitempty"`
	MIMETruncation *int             `wbxml:"MIMETruncation,omitempty"`
	MaxItems       int              `wbxml:"MaxItems,omitempty"`
	BodyPreference []BodyPreference `wbxml:"AirSyncBase:BodyPreference"`
	Unknown        []*wbxml.Node    `wbxml:",any"`
}

// SyncCommands are the changes in a Collection. The binding groups them by
// kind (Add, Change, Delete, SoftDelete, Fetch), which is the order servers
// send; a request that interleaves kinds is re-emitted grouped.
type SyncCommands struct {
	Add        []SyncItem    `wbxml:"Add"`
	Change     []SyncItem    `wbxml:"Change"`
	Delete     []SyncItem    `wbxml:"Delete"`
	SoftDelete []SyncItem    `wbxml:"SoftDelete"`
	Fetch      []SyncItem    `wbxml:"Fetch"`
	Unknown    []*wbxml.Node `wbxml:",any"`
}

// SyncItem is one Add, Change, Delete, SoftDelete or Fetch, in a command or
// in Responses. ClientId identifies a client Add; Status appears in Responses.
type SyncItem struct {
	Class           string        `wbxml:"Class,omitempty"`
	ClientId        string        `wbxml:"ClientId,omitempty"`
	ServerId        string        `wbxml:"ServerId,omitempty"`
	Status          int           `wbxml:"Status,omitempty"`
	ApplicationData *EmailData    `wbxml:"ApplicationData,omitempty"`
	Unknown         []*wbxml.Node `wbxml:",any"`
}

// SyncResponse is a Sync command response. Status is set at the top level
// only when the whole request failed.
type SyncResponse struct {
	XMLName     struct{}                 `wbxml:"AirSync:Sync"`
	Status      int                      `wbxml:"Status,omitempty"`
	Limit       int                      `wbxml:"Limit,omitempty"`
	Collections []SyncCollectionResponse `wbxml:"Collections>Collection,omitempty"`
	Unknown     []*wbxml.Node            `wbxml:",any"`
}

// SyncCollectionResponse is a Collection in a response. MoreAvailable
// follows Commands, as in the MS-ASCMD 4.5.8 example.
type SyncCollectionResponse struct {
	Class         string         `wbxml:"Class,omitempty"`
	SyncKey       string         `wbxml:"SyncKey"`
	CollectionId  string         `wbxml:"CollectionId"`
	Status        int            `wbxml:"Status"`
	Commands      *SyncCommands  `wbxml:"Commands,omitempty"`
	Responses     *SyncResponses `wbxml:"Responses,omitempty"`
	MoreAvailable bool           `wbxml:"MoreAvailable,empty"`
	Unknown       []*wbxml.Node  `wbxml:",any"`
}

// SyncResponses are the server's answers to the client's commands.
type SyncResponses struct {
	Add     []SyncItem    `wbxml:"Add"`
	Change  []SyncItem    `wbxml:"Change"`
	Fetch   []SyncItem    `wbxml:"Fetch"`
	Unknown []*wbxml.Node `wbxml:",any"`
}

// EmailData is the ApplicationData of an Email class item (MS-ASEMAIL 2.2.2),
// in the order Exchange sends the elements. Elements of other classes, or
// email elements not modelled here, are kept in Unknown.
type EmailData struct {
	XMLName           struct{}      `wbxml:"AirSync:ApplicationData"`
	To                string        `wbxml:"Email:To,omitempty"`
	Cc                string        `wbxml:"Email:Cc,omitempty"`
	From              string        `wbxml:"Email:From,omitempty"`
	Subject           string        `wbxml:"Email:Subject,omitempty"`
	ReplyTo           string        `wbxml:"Email:ReplyTo,omitempty"`
	DateReceived      string        `wbxml:"Email:DateReceived,omitempty"`
	DisplayTo         string        `wbxml:"Email:DisplayTo,omitempty"`
	ThreadTopic       string        `wbxml:"Email:ThreadTopic,omitempty"`
	Importance        *int          `wbxml:"Email:Importance,omitempty"`
	Read              *bool         `wbxml:"Email:Read,omitempty"`
	Attachments       []Attachment  `wbxml:"AirSyncBase:Attachments>Attachment,omitempty"`
	Body              *Body         `wbxml:"AirSyncBase:Body,omitempty"`
	MessageClass      string        `wbxml:"Email:MessageClass,omitempty"`
	InternetCPID      string        `wbxml:"Email:InternetCPID,omitempty"`
	Flag              *Flag         `wbxml:"Email:Flag,omitempty"`
	ContentClass      string        `wbxml:"Email:ContentClass,omitempty"`
	NativeBodyType    int           `wbxml:"AirSyncBase:NativeBodyType,omitempty"`
	ConversationId    []byte        `wbxml:"Email2:ConversationId,omitempty"`
	ConversationIndex []byte        `wbxml:"Email2:ConversationIndex,omitempty"`
	Unknown           []*wbxml.Node `wbxml:",any"`
}

// Flag is an email's follow-up flag; an empty Flag element clears it.
type Flag struct {
	Status       int           `wbxml:"Email:Status,omitempty"` // libwbxml calls this token FlagStatus
	FlagType     string        `wbxml:"Email:FlagType,omitempty"`
	CompleteTime string        `wbxml:"Email:CompleteTime,omitempty"`
	Unknown      []*wbxml.Node `wbxml:",any"`
}
