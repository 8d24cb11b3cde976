package exchange

import (
	"net/http"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// QuarantineSubject is the subject of the one message a quarantined
// device syncs.
const QuarantineSubject = "Your device is temporarily blocked from synchronizing using Exchange ActiveSync until access is granted by your administrator"

// quarantineKey is the Sync key a quarantined device holds once it has
// the notice: unknown to the real store, so the device starts over with
// key 0 once allowed.
const quarantineKey = "Q2"

// enforceAccess applies Exchange's device access (allow / block /
// quarantine, exmgmt) to an EAS request. It answers and returns true when
// the request stops here; a quarantined Sync has its handler replaced by
// the notice-only one. A device with a pending wipe always gets through,
// so the wipe reaches it.
func (s *Server) enforceAccess(rc *reqCtx, h *commandHandler) bool {
	d := s.mgmt.observe(rc.mb.user.Name, rc.dev, s.now())
	if wipePending(rc.dev.AccessState) {
		return false
	}
	switch d.AccessState {
	case exmgmt.StateBlocked:
		s.refuseBlocked(rc)
		return true
	case exmgmt.StateQuarantined:
		switch rc.ri.Query.Cmd {
		case eas.CmdProvision, eas.CmdFolderSync, eas.CmdSettings, eas.CmdPing:
			return false
		case eas.CmdSync:
			*h = (*Server).quarantineSync
			return false
		}
		s.refuseBlocked(rc)
		return true
	}
	return false
}

// refuseBlocked answers as Exchange does for a blocked device: HTTP 403
// before protocol 14.0 (and for commands without a top-level Status),
// Status 129 DeviceIsBlockedForThisUser from 14.0.
func (s *Server) refuseBlocked(rc *reqCtx) {
	s.log.Info("eas: device access refused", "user", rc.mb.user.Name, "device", rc.deviceID())
	root, ok := statusRoots[rc.ri.Query.Cmd]
	if rc.version() < eas.V140 || !ok || root == "Move:MoveItems" {
		http.Error(rc.w, "device is blocked", http.StatusForbidden)
		return
	}
	n := wbxml.NewElement(wbxml.MustTag(root), wbxml.NewText(statusTag(root), itoa(int(eas.StatusDeviceIsBlockedForThisUser))))
	b, err := wbxml.Marshal(n)
	if err != nil {
		http.Error(rc.w, "encode", http.StatusInternalServerError)
		return
	}
	writeWBXMLBytes(rc.w, b)
}

// quarantineSync answers a quarantined device's Sync: every collection
// is empty except the Inbox, which holds the quarantine notice once.
func (s *Server) quarantineSync(rc *reqCtx) {
	body, ok := s.readBody(rc)
	if !ok {
		return
	}
	var req eas.SyncRequest
	if len(body) == 0 || wbxml.UnmarshalStruct(body, &req, wbxml.Limits{MaxSize: int(s.cfg.MaxRequestBody)}) != nil {
		s.writeWBXML(rc, &eas.SyncResponse{Status: syncProtocolError})
		return
	}
	rc.mb.mu.Lock()
	inbox := rc.mb.folderByType(FolderTypeInbox).ID
	rc.mb.mu.Unlock()
	resp := eas.SyncResponse{}
	for _, c := range req.Collections {
		cr := eas.SyncCollectionResponse{Class: c.Class, CollectionId: c.CollectionId, SyncKey: c.SyncKey, Status: syncSuccess}
		switch {
		case c.SyncKey == "0":
			cr.SyncKey = "Q1"
		case c.SyncKey == "Q1" && c.CollectionId == inbox:
			cr.SyncKey = quarantineKey
			text := "Access to your mailbox from this device is quarantined until your administrator allows it."
			cr.Commands = &eas.SyncCommands{Add: []eas.SyncItem{{ServerId: inbox + ":quarantine", ApplicationData: &eas.EmailData{
				From: "Microsoft Exchange <postmaster@" + s.cfg.Domain + ">", Subject: QuarantineSubject,
				Body: &eas.Body{Type: 1, EstimatedDataSize: uint32(len(text)), Data: &text}}}}}
		}
		resp.Collections = append(resp.Collections, cr)
	}
	s.writeWBXML(rc, &resp)
}
