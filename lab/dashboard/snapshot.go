package dashboard

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
)

// snapshot is everything the page shows; it is pushed whole when it
// changes (a lab has tens of devices, not thousands).
type snapshot struct {
	Devices  []deviceRow    `json:"devices"`
	Tunnels  []tunnelRow    `json:"tunnels"`
	Gateway  gatewayState   `json:"gateway"`
	UEM      uemState       `json:"uem"`
	Exchange exchangeState  `json:"exchange"`
	Servers  []serverState  `json:"servers"`
	Kerberos kerberosState  `json:"kerberos"`
	Chart    *chart         `json:"chart"`
	Demo     demoState      `json:"demo"`
	Policies []policyOption `json:"policies"`
	Users    []string       `json:"users"`
	Notes    []string       `json:"notes"`
}

// deviceRow is one device as the UEM and the gateway's cache see it.
type deviceRow struct {
	ID       string     `json:"id"`
	User     string     `json:"user"`
	Platform string     `json:"platform"`
	Class    string     `json:"class"`
	Version  string     `json:"version"`   // ActiveSync protocol version
	GWState  string     `json:"gw_state"`  // A, B, P, W; "" when not cached
	UEMState string     `json:"uem_state"` // A, B, W; "" when unknown to the UEM
	UEMSync  string     `json:"uem_sync"`  // Allowed, Blocked, Wiped
	Policy   string     `json:"policy"`
	Assoc    string     `json:"assoc"` // UEM association id
	Driven   bool       `json:"driven"`
	Timeline []exchange `json:"timeline"`
}

type gatewayState struct {
	Up       bool   `json:"up"`
	Mode     string `json:"mode"`
	CanKill  bool   `json:"can_kill"`
	UEMState string `json:"uem_state"` // the gateway's view of UEM connectivity
	FailOpen bool   `json:"fail_open"`
	Cached   int    `json:"cached"`
	Attach   bool   `json:"attachment_encryption"`
	// Requests is the gateway's count of requests from all devices
	// (d-http-requests); RequestsOK is false when it could not be read.
	Requests   uint64 `json:"requests"`
	RequestsOK bool   `json:"requests_ok"`
	Error      string `json:"error,omitempty"`
}

type uemState struct {
	Down              bool `json:"down"`
	DropNotifications bool `json:"drop_notifications"`
}

type exchangeState struct {
	Down bool `json:"down"`
}

type serverState struct {
	Service string `json:"service"`
	Address string `json:"address"`
	Live    bool   `json:"live"`
}

type kerberosState struct {
	Enabled     bool   `json:"enabled"`
	Initialised bool   `json:"initialised"`
	Realm       string `json:"realm,omitempty"`
	Error       string `json:"error,omitempty"`
}

type policyOption struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// build samples the lab once.
func (s *Server) build(ctx context.Context) snapshot {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	snap := snapshot{Chart: s.state.chart}
	snap.Gateway, snap.Servers, snap.Kerberos = s.gatewayView(ctx)
	f := s.l.UEM.Faults()
	snap.UEM = uemState{Down: f.Down, DropNotifications: f.DropNotifications}
	snap.Exchange = exchangeState{Down: s.l.Exchange.Faults().Down}
	for _, p := range s.l.UEM.Policies() {
		snap.Policies = append(snap.Policies, policyOption{ID: p.ID, Name: p.Name})
	}
	for _, u := range s.l.Users() {
		snap.Users = append(snap.Users, u.Name)
	}
	var entries []admin.Entry
	if snap.Gateway.Up {
		entries, _ = s.adm.Dump(ctx, "all")
	}
	activeSync, tunnels := splitEntries(entries)
	snap.Devices = s.deviceRows(activeSync)
	snap.Tunnels = mergeTunnels(s.uemTunnels(), tunnels)
	snap.Demo = s.demo.state()
	s.mu.Lock()
	snap.Notes = append([]string(nil), s.notes...)
	s.mu.Unlock()
	return snap
}

func (s *Server) gatewayView(ctx context.Context) (gatewayState, []serverState, kerberosState) {
	g := gatewayState{Mode: string(s.l.Mode()), CanKill: s.l.CanKill()}
	if e, err := s.l.UEM.Gateway(s.l.GatewayID()); err == nil {
		g.Attach = e.Config.AttachmentControl.Enabled
	}
	st, err := s.adm.Status(ctx)
	if err != nil {
		g.Error = "the gateway does not answer"
		return g, nil, kerberosState{Enabled: s.l.KDC != nil}
	}
	g.Up, g.UEMState, g.FailOpen = true, st.UEMState, st.FailOpen
	g.Requests, g.RequestsOK = s.gatewayRequests(ctx)
	if cs, err := s.adm.CacheStatus(ctx); err == nil {
		g.Cached = cs.InMemory
	}
	var servers []serverState
	if svcs, err := s.adm.Servers(ctx); err == nil {
		for _, svc := range svcs {
			for _, sv := range svc.Servers {
				servers = append(servers, serverState{Service: svc.Name, Address: sv.Address, Live: sv.Reachable})
			}
		}
	}
	k := kerberosState{Enabled: s.l.KDC != nil}
	if k.Enabled {
		if info, err := s.adm.KerberosInfo(ctx); err == nil {
			k.Initialised, k.Realm, k.Error = info.Initialised, info.Realm, info.LastError
		}
	}
	return g, servers, k
}

// deviceRows merges the UEM's associations, the gateway's cache and the
// devices the dashboard drives into one row per (device, user).
func (s *Server) deviceRows(entries []admin.Entry) []deviceRow {
	rows := map[string]*deviceRow{}
	row := func(id, user string) *deviceRow {
		k := strings.ToLower(id + "\x00" + user)
		if r := rows[k]; r != nil {
			return r
		}
		r := &deviceRow{ID: id, User: user}
		rows[k] = r
		return r
	}
	if page, err := s.l.UEM.Associations(uem.AssociationFilter{}, "", 1000); err == nil {
		for _, a := range page.Items {
			r := row(a.DeviceID, a.User)
			r.Assoc, r.UEMSync, r.UEMState, r.Policy, r.Platform = a.ID, a.SyncStatus, uemLetter(a.SyncStatus), a.PolicyName, a.OS
		}
	}
	for _, e := range entries {
		if e.DeviceID == "" {
			continue
		}
		r := row(e.DeviceID, e.User)
		r.GWState, r.Version = e.State, e.Version
	}
	for _, d := range s.fleet.list() {
		r := row(d.ID(), d.User())
		c := d.Config()
		r.Driven, r.Platform, r.Class = true, string(c.Platform), string(c.Class)
		if r.Version == "" {
			r.Version = string(c.Version)
		}
	}
	byDevice := map[string][]exchange{}
	for _, x := range s.rec.since(0) {
		k := strings.ToLower(x.Device)
		byDevice[k] = append(byDevice[k], x)
	}
	out := make([]deviceRow, 0, len(rows))
	for _, r := range rows {
		tl := byDevice[strings.ToLower(r.ID)]
		if len(tl) > 10 {
			tl = tl[len(tl)-10:]
		}
		r.Timeline = tl
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// uemLetter is the UEM's sync status as the cache's letter.
func uemLetter(sync string) string {
	switch strings.ToLower(sync) {
	case "allowed":
		return "A"
	case "blocked":
		return "B"
	case "wiped":
		return "W"
	}
	return ""
}
