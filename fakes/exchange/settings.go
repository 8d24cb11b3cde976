package exchange

import (
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// cmdSettings answers DeviceInformation Set (recorded on the partnership),
// UserInformation Get, Oof Get/Set and DevicePassword.
func (s *Server) cmdSettings(rc *reqCtx) {
	var req eas.SettingsRequest
	empty, ok := s.decode(rc, &req)
	if !ok {
		return
	}
	resp := eas.SettingsResponse{Status: 1}
	if empty {
		resp.Status = 2 // protocol error
		s.writeWBXML(rc, &resp)
		return
	}
	if req.Oof != nil {
		resp.Oof = &eas.Oof{Status: 1}
		if req.Oof.Get != nil {
			resp.Oof.Get = &eas.OofSettings{OofState: eas.Ptr(0)}
		}
	}
	if req.DevicePassword != nil {
		resp.DevicePassword = wbxml.NewElement(wbxml.MustTag("Settings:DevicePassword"), wbxml.NewText(wbxml.MustTag("Settings:Status"), "1"))
	}
	if di := req.DeviceInformation; di != nil {
		s.recordDeviceInfo(rc.mb.user.Name, rc.deviceID(), di.Set)
		resp.DeviceInformation = &eas.DeviceInformation{Status: 1}
	}
	if req.UserInformation != nil {
		resp.UserInformation = &eas.UserInformation{Status: 1, Get: &eas.UserInformationGet{
			EmailAddresses: &eas.EmailAddresses{SmtpAddress: []string{rc.mb.user.Email}}}}
	}
	s.writeWBXML(rc, &resp)
}

// GetItemEstimate status values (MS-ASCMD 2.2.3.177.8).
const (
	estSuccess        = 1
	estBadCollection  = 2
	estNotPrimed      = 3
	estInvalidSyncKey = 4
)

func (s *Server) cmdGetItemEstimate(rc *reqCtx) {
	var req eas.GetItemEstimateRequest
	if _, ok := s.decode(rc, &req); !ok {
		return
	}
	resp := eas.GetItemEstimateResponse{}
	m := rc.mb
	m.mu.Lock()
	d := m.device(rc.deviceID())
	for _, c := range req.Collections {
		f := m.byID[c.CollectionId]
		cs := d.cols[c.CollectionId]
		key := c.SyncKey
		if key == "" { // 12.1 puts it elsewhere; take the device's current one
			if cs != nil {
				key = cs.key
			}
		}
		r := eas.EstimateResponse{Status: estSuccess}
		switch {
		case f == nil:
			r.Status = estBadCollection
		case cs == nil || key == "0":
			r.Status = estNotPrimed
		case key != cs.key:
			r.Status = estInvalidSyncKey
		default:
			r.Collection = &eas.ItemEstimate{CollectionId: f.ID, Estimate: eas.Ptr(pendingLocked(f, cs))}
		}
		if r.Collection == nil {
			r.Collection = &eas.ItemEstimate{CollectionId: c.CollectionId}
		}
		resp.Response = append(resp.Response, r)
	}
	m.mu.Unlock()
	s.writeWBXML(rc, &resp)
}

// MoveItems status values (MS-ASCMD 2.2.3.177.9).
const (
	moveBadSource = 1
	moveBadDest   = 2
	moveSuccess   = 3
	moveSame      = 4
)

func (s *Server) cmdMoveItems(rc *reqCtx) {
	var req eas.MoveItemsRequest
	if _, ok := s.decode(rc, &req); !ok {
		return
	}
	resp := eas.MoveItemsResponse{}
	m := rc.mb
	m.mu.Lock()
	d := m.device(rc.deviceID())
	for _, mv := range req.Move {
		r := eas.MoveItemResponse{SrcMsgId: mv.SrcMsgId}
		src, dst := m.byID[mv.SrcFldId], m.byID[mv.DstFldId]
		switch {
		case src == nil:
			r.Status = moveBadSource
		case dst == nil:
			r.Status = moveBadDest
		case src == dst:
			r.Status = moveSame
		default:
			i, it := src.find(mv.SrcMsgId)
			if it == nil {
				r.Status = moveBadSource
				break
			}
			moved := m.moveLocked(src, i, dst)
			if cs := d.cols[src.ID]; cs != nil {
				delete(cs.known, mv.SrcMsgId) // the device moved it itself
			}
			r.Status, r.DstMsgId = moveSuccess, moved.ServerID
		}
		resp.Response = append(resp.Response, r)
	}
	m.mu.Unlock()
	s.writeWBXML(rc, &resp)
}
