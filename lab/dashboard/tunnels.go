package dashboard

import (
	"sort"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// tunnelRow is one app tunnel (device, user, app) as the UEM's AppTunnels
// view and the gateway's cache see it (docs/apptunnel.md §4).
type tunnelRow struct {
	Device      string `json:"device"` // the device UUID (the cache's Tunnel-ID)
	User        string `json:"user"`
	App         string `json:"app"` // bundle id
	Service     string `json:"service,omitempty"`
	Version     string `json:"version,omitempty"`
	UEMState    string `json:"uem_state"` // allow, block; "" when the UEM does not list it
	Reason      string `json:"reason,omitempty"`
	GWState     string `json:"gw_state"` // A, B...; "" when not cached
	Validated   string `json:"validated,omitempty"`
	Connections uint32 `json:"connections"`
}

// maxTunnelPages bounds the walk of the UEM's tunnel list (a lab has a
// handful of tunnels; this is only a guard).
const maxTunnelPages = 20

// uemTunnels is the UEM's whole AppTunnels view.
func (s *Server) uemTunnels() []uemapi.AppTunnel {
	var out []uemapi.AppTunnel
	cursor := ""
	for range maxTunnelPages {
		p, err := s.l.UEM.AppTunnels(cursor, uemapi.MaxPageSize)
		if err != nil {
			return out
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
	return out
}

// splitEntries separates the cache's ActiveSync entries from its tunnel
// records: both come from `dump all`, and a tunnel record must not make a
// device row of its own.
func splitEntries(entries []admin.Entry) (activeSync, tunnels []admin.Entry) {
	for _, e := range entries {
		if strings.HasPrefix(e.Application, "ActiveSync/") {
			activeSync = append(activeSync, e)
		} else {
			tunnels = append(tunnels, e)
		}
	}
	return activeSync, tunnels
}

// mergeTunnels joins the UEM's tunnels and the cache's tunnel records on
// (device, user, app), case-insensitively, sorted by user, device, app.
func mergeTunnels(uemSide []uemapi.AppTunnel, cached []admin.Entry) []tunnelRow {
	rows := map[string]*tunnelRow{}
	row := func(dev, user, app string) *tunnelRow {
		k := strings.ToLower(dev + "\x00" + user + "\x00" + app)
		if r := rows[k]; r != nil {
			return r
		}
		r := &tunnelRow{Device: dev, User: user, App: app}
		rows[k] = r
		return r
	}
	for _, t := range uemSide {
		r := row(t.DeviceUUID, t.User, t.AppID)
		r.Service, r.Version, r.UEMState, r.Reason = t.Service, string(t.Version), string(t.State), t.Reason
	}
	for _, e := range cached {
		r := row(e.DeviceID, e.User, e.Application)
		r.GWState, r.Validated, r.Connections = e.State, e.Validated, e.Connections
		if r.Version == "" {
			r.Version = e.Version
		}
	}
	out := make([]tunnelRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.User != b.User {
			return a.User < b.User
		}
		if a.Device != b.Device {
			return a.Device < b.Device
		}
		return a.App < b.App
	})
	return out
}
