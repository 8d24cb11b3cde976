package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// FolderSyncRequest is a FolderSync command request; SyncKey "0" asks for
// the whole hierarchy.
type FolderSyncRequest struct {
	XMLName struct{}      `wbxml:"FolderHierarchy:FolderSync"`
	SyncKey string        `wbxml:"SyncKey"`
	Unknown []*wbxml.Node `wbxml:",any"`
}

// FolderSyncResponse is a FolderSync command response.
type FolderSyncResponse struct {
	XMLName struct{}       `wbxml:"FolderHierarchy:FolderSync"`
	Status  int            `wbxml:"Status"`
	SyncKey string         `wbxml:"SyncKey,omitempty"`
	Changes *FolderChanges `wbxml:"Changes,omitempty"`
	Unknown []*wbxml.Node  `wbxml:",any"`
}

// FolderChanges lists hierarchy changes in FolderSyncResponse.xsd order:
// Count, then Update, Delete and Add elements, each kind grouped.
type FolderChanges struct {
	Count   *int           `wbxml:"Count,omitempty"`
	Update  []Folder       `wbxml:"Update"`
	Delete  []FolderDelete `wbxml:"Delete"`
	Add     []Folder       `wbxml:"Add"`
	Unknown []*wbxml.Node  `wbxml:",any"`
}

// Folder is an added or updated folder. Type is the folder type of
// MS-ASCMD 2.2.3.186.3 (2 Inbox, 3 Drafts, 4 Deleted Items, 5 Sent Items, ...).
type Folder struct {
	ServerId    string        `wbxml:"ServerId"`
	ParentId    string        `wbxml:"ParentId"`
	DisplayName string        `wbxml:"DisplayName"`
	Type        int           `wbxml:"Type"`
	Unknown     []*wbxml.Node `wbxml:",any"`
}

// FolderDelete names a deleted folder.
type FolderDelete struct {
	ServerId string        `wbxml:"ServerId"`
	Unknown  []*wbxml.Node `wbxml:",any"`
}
