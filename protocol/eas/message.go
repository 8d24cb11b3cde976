package eas

import (
	"errors"
	"fmt"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// ErrUnknownMessage is wrapped by Decode errors for a root element that is
// not one of the commands this package models.
var ErrUnknownMessage = errors.New("eas: unknown command root element")

// messageKind maps a command's root element to its request and response types.
type messageKind struct {
	request  func() any
	response func() any
	// isResponse tells the two apart from the tree, for Decode.
	isResponse func(root *wbxml.Node) bool
}

// hasChild reports whether root has a child called name in root's code page.
func hasChild(root *wbxml.Node, name string) bool {
	for _, p := range wbxml.Pages() {
		if p.ID == root.Tag.Page {
			t, ok := wbxml.TagByName(p.Name + ":" + name)
			return ok && root.Child(t) != nil
		}
	}
	return false
}

func withStatus(root *wbxml.Node) bool { return hasChild(root, "Status") }

func withResponse(root *wbxml.Node) bool {
	return hasChild(root, "Status") || hasChild(root, "Response")
}

// syncIsResponse: a Sync response has a top-level Status, or a Collection
// that carries a Status (requests never do). Like the binding, it looks at
// the first Collections element only.
func syncIsResponse(root *wbxml.Node) bool {
	if withStatus(root) {
		return true
	}
	cols := root.Child(wbxml.MustTag("AirSync:Collections"))
	if cols == nil {
		return false
	}
	for _, c := range cols.Children {
		if c.Tag == wbxml.MustTag("AirSync:Collection") && c.Child(wbxml.MustTag("AirSync:Status")) != nil {
			return true
		}
	}
	return false
}

var messageKinds = map[wbxml.Tag]messageKind{
	wbxml.MustTag("Provision:Provision"):             {func() any { return new(ProvisionRequest) }, func() any { return new(ProvisionResponse) }, withStatus},
	wbxml.MustTag("FolderHierarchy:FolderSync"):      {func() any { return new(FolderSyncRequest) }, func() any { return new(FolderSyncResponse) }, withStatus},
	wbxml.MustTag("AirSync:Sync"):                    {func() any { return new(SyncRequest) }, func() any { return new(SyncResponse) }, syncIsResponse},
	wbxml.MustTag("Ping:Ping"):                       {func() any { return new(PingRequest) }, func() any { return new(PingResponse) }, withStatus},
	wbxml.MustTag("ItemOperations:ItemOperations"):   {func() any { return new(ItemOperationsRequest) }, func() any { return new(ItemOperationsResponse) }, withResponse},
	wbxml.MustTag("ComposeMail:SendMail"):            {func() any { return new(SendMail) }, func() any { return new(SendMailResponse) }, withStatus},
	wbxml.MustTag("ComposeMail:SmartForward"):        {func() any { return new(SmartForward) }, func() any { return new(SmartForwardResponse) }, withStatus},
	wbxml.MustTag("ComposeMail:SmartReply"):          {func() any { return new(SmartReply) }, func() any { return new(SmartReplyResponse) }, withStatus},
	wbxml.MustTag("Settings:Settings"):               {func() any { return new(SettingsRequest) }, func() any { return new(SettingsResponse) }, withStatus},
	wbxml.MustTag("GetItemEstimate:GetItemEstimate"): {func() any { return new(GetItemEstimateRequest) }, func() any { return new(GetItemEstimateResponse) }, withResponse},
	wbxml.MustTag("Move:MoveItems"):                  {func() any { return new(MoveItemsRequest) }, func() any { return new(MoveItemsResponse) }, withResponse},
}

// Direction says whether a body was sent by the client or by the server.
type Direction uint8

const (
	// Guess picks request or response from the content, as Decode does.
	Guess Direction = iota
	// ClientToServer decodes request types.
	ClientToServer
	// ServerToClient decodes response types.
	ServerToClient
)

// Decode parses a WBXML command body and returns a pointer to the typed
// request or response struct for its root element (e.g. *SyncRequest or
// *SyncResponse). Responses are told from requests by their Status (or
// Response) children; a caller that knows the direction uses DecodeAs.
//
// The structs carry message content (bodies, MIME, attachment data, the
// Settings DevicePassword): an audit log records chosen fields, never the
// whole struct.
func Decode(data []byte, lim wbxml.Limits) (any, error) {
	return DecodeAs(data, lim, Guess)
}

// DecodeAs is Decode with the direction given rather than guessed.
func DecodeAs(data []byte, lim wbxml.Limits, dir Direction) (any, error) {
	doc, err := wbxml.Parse(data, lim)
	if err != nil {
		return nil, err
	}
	return DecodeNode(doc.Root, dir)
}

// DecodeNode is DecodeAs for an already parsed tree.
func DecodeNode(root *wbxml.Node, dir Direction) (any, error) {
	k, ok := messageKinds[root.Tag]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownMessage, root.Tag)
	}
	if dir == Guess {
		dir = ClientToServer
		if k.isResponse(root) {
			dir = ServerToClient
		}
	}
	v := k.request()
	if dir == ServerToClient {
		v = k.response()
	}
	if err := wbxml.NodeToStruct(root, v); err != nil {
		return nil, fmt.Errorf("eas: %s: %w", root.Tag, err)
	}
	return v, nil
}

// EncodeMessage marshals a message struct (any type of this package with a
// root element) as a WBXML document.
func EncodeMessage(msg any) ([]byte, error) { return wbxml.MarshalStruct(msg) }
