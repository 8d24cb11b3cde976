package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// Conventions shared by every message type in this package:
//
//   - Fields are declared in MS-ASCMD element order; the struct binding
//     writes them in that order.
//   - Structs that can meet elements this package does not model have an
//     Unknown field. Unknown children are kept and re-emitted after the
//     known ones, so a message relayed through these types loses nothing,
//     though an unknown element that sat between known ones moves to the end.
//   - Optional values where zero is meaningful (FilterType 0, Truncated 0,
//     Count 0) are pointers: nil means absent. Use Ptr to fill them.
//   - Optional strings that servers send as empty elements (<MaxAttachmentSize/>)
//     are *string: nil is absent, a pointer to "" is the empty element.

// Ptr returns a pointer to v, for the optional fields of messages.
func Ptr[T any](v T) *T { return &v }

// Body types (airsyncbase:Type, MS-ASAIRS 2.2.2.22.1).
const (
	BodyPlainText = 1
	BodyHTML      = 2
	BodyRTF       = 3
	BodyMIME      = 4
)

// BodyPreference asks for a body type and size (airsyncbase:BodyPreference).
type BodyPreference struct {
	Type           int           `wbxml:"AirSyncBase:Type"`
	TruncationSize uint32        `wbxml:"AirSyncBase:TruncationSize,omitempty"`
	AllOrNone      *bool         `wbxml:"AirSyncBase:AllOrNone,omitempty"`
	Preview        int           `wbxml:"AirSyncBase:Preview,omitempty"`
	Unknown        []*wbxml.Node `wbxml:",any"`
}

// Body is an item's body (airsyncbase:Body, MS-ASAIRS 2.2.2.9). For Type
// BodyMIME, Data holds the whole MIME message as text.
type Body struct {
	Type              int           `wbxml:"AirSyncBase:Type"`
	EstimatedDataSize uint32        `wbxml:"AirSyncBase:EstimatedDataSize,omitempty"`
	Truncated         *bool         `wbxml:"AirSyncBase:Truncated,omitempty"`
	Data              *string       `wbxml:"AirSyncBase:Data,omitempty"`
	Part              int           `wbxml:"ItemOperations:Part,omitempty"` // multipart ItemOperations: index of the part holding Data
	Preview           string        `wbxml:"AirSyncBase:Preview,omitempty"`
	Unknown           []*wbxml.Node `wbxml:",any"`
}

// Attachment describes one attachment (airsyncbase:Attachment). FileReference
// is what ItemOperations Fetch takes to download it.
type Attachment struct {
	DisplayName       string        `wbxml:"AirSyncBase:DisplayName,omitempty"`
	FileReference     string        `wbxml:"AirSyncBase:FileReference,omitempty"`
	Method            int           `wbxml:"AirSyncBase:Method,omitempty"`
	EstimatedDataSize uint32        `wbxml:"AirSyncBase:EstimatedDataSize,omitempty"`
	ContentId         string        `wbxml:"AirSyncBase:ContentId,omitempty"`
	ContentLocation   string        `wbxml:"AirSyncBase:ContentLocation,omitempty"`
	IsInline          *bool         `wbxml:"AirSyncBase:IsInline,omitempty"`
	Unknown           []*wbxml.Node `wbxml:",any"`
}
