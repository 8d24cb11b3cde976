package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// PingRequest is a Ping command request. Either field may be omitted when
// the server has it cached from a previous Ping.
type PingRequest struct {
	XMLName           struct{}      `wbxml:"Ping:Ping"`
	HeartbeatInterval int           `wbxml:"HeartbeatInterval,omitempty"`
	Folders           []PingFolder  `wbxml:"Folders>Folder,omitempty"`
	Unknown           []*wbxml.Node `wbxml:",any"`
}

// PingFolder is a folder to watch; Class is Email, Calendar, Contacts or Tasks.
type PingFolder struct {
	Id      string        `wbxml:"Id"`
	Class   string        `wbxml:"Class"`
	Unknown []*wbxml.Node `wbxml:",any"`
}

// PingResponse is a Ping command response, in PingResponse.xsd order.
// Status 2 lists the changed folders; 5 and 6 carry HeartbeatInterval or
// MaxFolders limits.
type PingResponse struct {
	XMLName           struct{}      `wbxml:"Ping:Ping"`
	Status            int           `wbxml:"Status"`
	Folders           []string      `wbxml:"Folders>Folder,omitempty"`
	MaxFolders        int           `wbxml:"MaxFolders,omitempty"`
	HeartbeatInterval int           `wbxml:"HeartbeatInterval,omitempty"`
	Unknown           []*wbxml.Node `wbxml:",any"`
}
