package uem

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

type tunnelKey struct{ user, app, device string }

// tunnel is the stored form of an app tunnel (ATM-01).
type tunnel struct {
	seq        int64
	app        string
	userName   string
	deviceUUID string
	service    string
	version    uemapi.TunnelVersion
	state      uemapi.TunnelState
	reason     string
	manual     bool
	created    int64
	lastConn   int64
	gateway    string
}

func tunnelID(seq int64) string { return "t" + strconv.FormatInt(seq, 10) }

func (s *store) tunnelView(t *tunnel) uemapi.AppTunnel {
	d := s.devices[t.deviceUUID]
	return uemapi.AppTunnel{
		ID:            tunnelID(t.seq),
		AppID:         t.app,
		User:          t.userName,
		DeviceUUID:    t.deviceUUID,
		Service:       t.service,
		Version:       t.version,
		State:         t.state,
		Reason:        t.reason,
		Registered:    d != nil && !d.Retired,
		CreationTime:  fromNanos(t.created),
		LastConnected: fromNanos(t.lastConn),
		GatewayID:     t.gateway,
	}
}

func (s *store) tunnelInput(t *tunnel, isNew bool) TunnelInput {
	d := s.devices[t.deviceUUID]
	in := TunnelInput{
		New:                   isNew,
		Current:               t.state,
		Manual:                t.manual,
		AutoBlockUnregistered: s.prefs.AutoBlockUnregistered,
		AppAuthorized:         true,
	}
	if d != nil && !d.Retired {
		in.Registered = true
		in.SecurityViolation = d.SecurityViolation
		in.DeviceTunnelsBlocked = d.AppTunnelsBlocked
		// An empty list authorises every app.
		in.AppAuthorized = len(d.AuthorizedApps) == 0 || slices.Contains(d.AuthorizedApps, t.app)
	}
	if !isNew && !in.Manual && !in.Registered {
		// Auto-block applies to new tunnels only, like ActiveSync (PREF-03).
		in.AutoBlockUnregistered = false
	}
	return in
}

func (s *store) reportTunnel(gatewayID string, r uemapi.AppTunnelReport) (uemapi.AppTunnel, error) {
	switch {
	case r.AppID == "":
		return uemapi.AppTunnel{}, uemapi.FieldError("app_id", "is required")
	case r.User == "":
		return uemapi.AppTunnel{}, uemapi.FieldError("user", "is required")
	case r.DeviceUUID == "":
		return uemapi.AppTunnel{}, uemapi.FieldError("device_uuid", "is required")
	case r.Version != uemapi.TunnelV1 && r.Version != uemapi.TunnelV2:
		return uemapi.AppTunnel{}, uemapi.FieldError("version", "must be V1 or V2")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := nanos(s.now())
	k := tunnelKey{strings.ToLower(r.User), r.AppID, r.DeviceUUID}
	if t, ok := s.tunnels[k]; ok {
		t.lastConn = now
		t.gateway = gatewayID
		s.reevaluateTunnel(t, false)
		return s.tunnelView(t), nil
	}
	t := &tunnel{
		seq: int64(len(s.tunnelList)) + 1, app: r.AppID, userName: r.User, deviceUUID: r.DeviceUUID,
		service: r.Service, version: r.Version, created: now, lastConn: now, gateway: gatewayID,
	}
	t.state, t.reason = DecideTunnel(s.tunnelInput(t, true))
	s.tunnels[k] = t
	s.tunnelList = append(s.tunnelList, t)
	return s.tunnelView(t), nil
}

func (s *store) reevaluateTunnel(t *tunnel, notify bool) {
	st, why := DecideTunnel(s.tunnelInput(t, false))
	if st == t.state && why == t.reason {
		return
	}
	old := t.state
	t.state, t.reason = st, why
	if old != st {
		action := EventReinstate
		if st == uemapi.TunnelBlock {
			action = EventBlock
		}
		s.logEvent(Event{Action: action, Automatic: true, AppTunnelID: tunnelID(t.seq), DeviceUUID: t.deviceUUID,
			User: t.userName, Message: autoMessage(action, uemapi.Reason(why))})
	}
	if notify {
		s.notifyTunnel(t, false)
	}
}

func (s *store) notifyTunnel(t *tunnel, removed bool) {
	s.broadcast(uemapi.Notification{Type: uemapi.NotifyAppTunnel, AppTunnel: &uemapi.AppTunnelChange{Tunnel: s.tunnelView(t), Removed: removed}})
}

func (s *store) tunnelsOfDevice(uuid string) []*tunnel {
	var out []*tunnel
	for _, t := range s.tunnelList {
		if t != nil && t.deviceUUID == uuid {
			out = append(out, t)
		}
	}
	return out
}

func (s *store) tunnelPage(cursor string, limit int) (uemapi.AppTunnelPage, error) {
	from, err := parseCursor(cursor)
	if err != nil {
		return uemapi.AppTunnelPage{}, err
	}
	if limit == 0 {
		limit = uemapi.DefaultPageSize
	}
	if limit < 1 || limit > uemapi.MaxPageSize {
		return uemapi.AppTunnelPage{}, uemapi.FieldError("limit", "must be 1-%d", uemapi.MaxPageSize)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	page := uemapi.AppTunnelPage{Items: []uemapi.AppTunnel{}}
	i := from
	for ; i < int64(len(s.tunnelList)) && len(page.Items) < limit; i++ {
		if t := s.tunnelList[i]; t != nil {
			page.Items = append(page.Items, s.tunnelView(t))
		}
	}
	if i < int64(len(s.tunnelList)) {
		page.NextCursor = strconv.FormatInt(i, 10)
	}
	return page, nil
}

// TunnelAction is an admin action on one app tunnel (ATM-02, ATM-03).
type TunnelAction struct {
	Action string `json:"action"` // allow, block, remove
	Note   string `json:"note"`
}

func (s *store) tunnelAction(id string, req TunnelAction) (uemapi.AppTunnel, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "t"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || !strings.HasPrefix(id, "t") || n < 1 || n > int64(len(s.tunnelList)) || s.tunnelList[n-1] == nil {
		return uemapi.AppTunnel{}, uemapi.Errorf(uemapi.CodeNotFound, "no app tunnel %q", id)
	}
	t := s.tunnelList[n-1]
	ev := Event{AppTunnelID: id, DeviceUUID: t.deviceUUID, User: t.userName, Message: req.Note}
	switch req.Action {
	case "allow":
		t.state, t.reason, t.manual = uemapi.TunnelAllow, "manual_allow", true
		ev.Action = EventReinstate
	case "block":
		t.state, t.reason, t.manual = uemapi.TunnelBlock, "manual_block", true
		ev.Action = EventBlock
	case "remove":
		v := s.tunnelView(t)
		s.tunnelList[n-1] = nil
		delete(s.tunnels, tunnelKey{strings.ToLower(t.userName), t.app, t.deviceUUID})
		ev.Action = EventRemove
		s.logEvent(ev)
		s.notifyTunnel(t, true)
		return v, nil
	default:
		return uemapi.AppTunnel{}, uemapi.FieldError("action", "must be allow, block or remove")
	}
	s.logEvent(ev)
	s.notifyTunnel(t, false)
	return s.tunnelView(t), nil
}
