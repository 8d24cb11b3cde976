package exchange

import (
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// Ping status values (MS-ASCMD 2.2.3.177.11).
const (
	pingExpired      = 1
	pingChanges      = 2
	pingMissing      = 3
	pingBadHeartbeat = 5
	pingTooMany      = 6
	pingHierarchy    = 7
)

// WaitingPings is the number of Ping requests being held right now.
func (s *Server) WaitingPings() int64 { return s.waitingPings.Load() }

// cmdPing holds the request until a watched folder changes, the heartbeat
// expires, the client goes away or the server shuts down. The handler's
// own goroutine waits; a mailbox wakes its waiters by closing its changed
// channel, so a hanging Ping costs one goroutine and one timer.
func (s *Server) cmdPing(rc *reqCtx) {
	var req eas.PingRequest
	if _, ok := s.decode(rc, &req); !ok {
		return
	}
	m := rc.mb
	m.mu.Lock()
	d := m.device(rc.deviceID())
	hb := req.HeartbeatInterval
	if hb == 0 {
		hb = d.pingSeconds
	}
	ids := make([]string, 0, len(req.Folders))
	for _, f := range req.Folders {
		ids = append(ids, f.Id)
	}
	if len(ids) == 0 {
		ids = d.pingFolders
	}
	resp := eas.PingResponse{}
	switch {
	case hb == 0 || len(ids) == 0:
		resp.Status = pingMissing
	case hb < s.cfg.MinHeartbeat:
		resp.Status, resp.HeartbeatInterval = pingBadHeartbeat, s.cfg.MinHeartbeat
	case hb > s.cfg.MaxHeartbeat:
		resp.Status, resp.HeartbeatInterval = pingBadHeartbeat, s.cfg.MaxHeartbeat
	case len(ids) > s.cfg.MaxPingFolders:
		resp.Status, resp.MaxFolders = pingTooMany, s.cfg.MaxPingFolders
	}
	for _, id := range ids {
		if resp.Status == 0 && m.byID[id] == nil {
			resp.Status = pingHierarchy
		}
	}
	if resp.Status != 0 {
		m.mu.Unlock()
		s.writeWBXML(rc, &resp)
		return
	}
	d.pingSeconds, d.pingFolders = hb, ids
	gens := make([]uint64, len(ids))
	var changed []string
	for i, id := range ids {
		f := m.byID[id]
		gens[i] = f.gen
		if pendingLocked(f, d.cols[id]) > 0 {
			changed = append(changed, id)
		}
	}
	wake := m.changed
	m.mu.Unlock()

	timer := time.NewTimer(time.Duration(hb) * time.Second)
	defer timer.Stop()
	s.waitingPings.Add(1)
	defer s.waitingPings.Add(-1)
	for len(changed) == 0 {
		select {
		case <-wake:
			if p, ok := s.devices.get(m.user.Name, rc.deviceID()); ok && wipePending(p.AccessState) {
				s.needProvision(rc, eas.StatusRemoteWipeRequested) // a wipe was ordered while we held the Ping
				return
			}
			m.mu.Lock()
			for i, id := range ids {
				f := m.byID[id]
				if f.gen != gens[i] {
					gens[i] = f.gen
					// A change the device already holds (its own read flag) is no news.
					if cs := d.cols[id]; cs == nil || pendingLocked(f, cs) > 0 {
						changed = append(changed, id)
					}
				}
			}
			wake = m.changed
			m.mu.Unlock()
		case <-timer.C:
			s.writeWBXML(rc, &eas.PingResponse{Status: pingExpired})
			return
		case <-s.stopping:
			s.writeWBXML(rc, &eas.PingResponse{Status: pingExpired})
			return
		case <-rc.r.Context().Done():
			return
		}
	}
	s.writeWBXML(rc, &eas.PingResponse{Status: pingChanges, Folders: changed})
}
