package eas

import (
	"fmt"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// ItemOperations replaces the protocol 12.1 GetAttachment command, which
// has no WBXML body: the attachment name travels in the query string
// (AttachmentName) and the response body is the raw attachment, so this
// package defines no type for it.

// ItemOperationsRequest is an ItemOperations command request. Only Fetch is
// modelled; EmptyFolderContents and Move are kept in Unknown.
type ItemOperationsRequest struct {
	XMLName struct{}       `wbxml:"ItemOperations:ItemOperations"`
	Fetch   []FetchRequest `wbxml:"Fetch"`
	Unknown []*wbxml.Node  `wbxml:",any"`
}

// FetchRequest fetches an attachment (FileReference), a mailbox item
// (CollectionId and ServerId), a search result (LongId) or a document.
type FetchRequest struct {
	Store         string        `wbxml:"Store"`
	FileReference string        `wbxml:"AirSyncBase:FileReference,omitempty"`
	CollectionId  string        `wbxml:"AirSync:CollectionId,omitempty"`
	ServerId      string        `wbxml:"AirSync:ServerId,omitempty"`
	LongId        string        `wbxml:"Search:LongId,omitempty"`
	LinkId        string        `wbxml:"DocumentLibrary:LinkId,omitempty"`
	Options       *FetchOptions `wbxml:"Options,omitempty"`
	Unknown       []*wbxml.Node `wbxml:",any"`
}

// FetchOptions limit what a Fetch returns. Range is "first-last" in bytes.
type FetchOptions struct {
	Schema         *wbxml.Node      `wbxml:"Schema,omitempty"` // kept as a raw subtree
	Range          string           `wbxml:"Range,omitempty"`
	UserName       string           `wbxml:"UserName,omitempty"`
	Password       string           `wbxml:"Password,omitempty"`
	MIMESupport    *int             `wbxml:"AirSync:MIMESupport,omitempty"`
	BodyPreference []BodyPreference `wbxml:"AirSyncBase:BodyPreference"`
	Unknown        []*wbxml.Node    `wbxml:",any"`
}

// ItemOperationsResponse is an ItemOperations command response.
type ItemOperationsResponse struct {
	XMLName  struct{}               `wbxml:"ItemOperations:ItemOperations"`
	Status   int                    `wbxml:"Status"`
	Response *ItemOperationsResults `wbxml:"Response,omitempty"`
	Unknown  []*wbxml.Node          `wbxml:",any"`
}

// ItemOperationsResults holds one result per requested operation.
type ItemOperationsResults struct {
	Fetch   []FetchResponse `wbxml:"Fetch"`
	Unknown []*wbxml.Node   `wbxml:",any"`
}

// FetchResponse is the result of one Fetch; it echoes the identifier that
// was requested.
type FetchResponse struct {
	Status        int              `wbxml:"Status"`
	FileReference string           `wbxml:"AirSyncBase:FileReference,omitempty"`
	CollectionId  string           `wbxml:"AirSync:CollectionId,omitempty"`
	ServerId      string           `wbxml:"AirSync:ServerId,omitempty"`
	LongId        string           `wbxml:"Search:LongId,omitempty"`
	LinkId        string           `wbxml:"DocumentLibrary:LinkId,omitempty"`
	Class         string           `wbxml:"AirSync:Class,omitempty"`
	Properties    *FetchProperties `wbxml:"Properties,omitempty"`
	Unknown       []*wbxml.Node    `wbxml:",any"`
}

// FetchProperties is what a Fetch returned. For an attachment, Data holds
// its content as base64 text (inline responses) or Part names the part of a
// multipart response that holds the raw bytes. For a mailbox item the item's
// elements (email:To, airsyncbase:Body, ...) stay in Unknown, in order;
// Email decodes them.
type FetchProperties struct {
	ContentType string        `wbxml:"AirSyncBase:ContentType,omitempty"`
	Range       string        `wbxml:"Range,omitempty"`
	Total       *int          `wbxml:"Total,omitempty"`
	Data        *string       `wbxml:"Data,omitempty"`
	Part        int           `wbxml:"Part,omitempty"`
	Version     string        `wbxml:"Version,omitempty"`
	Unknown     []*wbxml.Node `wbxml:",any"`
}

// Email decodes the item elements of a mailbox Fetch as an Email class item.
func (p *FetchProperties) Email() (*EmailData, error) {
	n := &wbxml.Node{Tag: wbxml.MustTag("AirSync:ApplicationData"), Children: p.Unknown}
	var e EmailData
	if err := wbxml.NodeToStruct(n, &e); err != nil {
		return nil, fmt.Errorf("eas: fetched item: %w", err)
	}
	return &e, nil
}
