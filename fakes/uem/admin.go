package uem

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// This file is the admin surface in Go: what the admin API serves, callable
// in-process by scenarios and tests.

// AddUser adds a user.
func (s *Server) AddUser(u User) (User, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p, err := s.st.addUserLocked(u)
	if err != nil {
		return User{}, err
	}
	return *p, nil
}

// User returns a user by id.
func (s *Server) User(id string) (User, error) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	u, ok := s.st.users[id]
	if !ok {
		return User{}, uemapi.Errorf(uemapi.CodeNotFound, "no user %q", id)
	}
	return *u, nil
}

// AddDevice registers a managed device.
func (s *Server) AddDevice(d Device) (Device, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p, err := s.st.addDeviceLocked(d)
	if err != nil {
		return Device{}, err
	}
	return *p, nil
}

// Device returns a managed device by UUID.
func (s *Server) Device(uuid string) (Device, error) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	d, ok := s.st.devices[uuid]
	if !ok {
		return Device{}, uemapi.Errorf(uemapi.CodeNotFound, "no device %q", uuid)
	}
	return *d, nil
}

// SetSecurityViolation marks a device (non-)compliant, as a check-in
// would, and re-decides its associations and tunnels (FLOW-08).
func (s *Server) SetSecurityViolation(uuid string, violation bool) (Device, error) {
	return s.st.setViolation(uuid, violation)
}

// SetAppTunnelsBlocked is the device-level Block / Allow AppTunnels
// (ATM-04).
func (s *Server) SetAppTunnelsBlocked(uuid string, blocked bool, note string) (Device, error) {
	return s.st.setDeviceTunnels(uuid, blocked, note)
}

// RetireDevice retires a device; its associations become unregistered.
func (s *Server) RetireDevice(uuid string) (Device, error) { return s.st.retireDevice(uuid) }

// AssociationFilter selects associations (ASA-08 and lookups).
type AssociationFilter struct {
	Registered     *bool            // Registered(linked) / Unregistered(unlinked)
	State          uemapi.SyncState // allowed, blocked, wiped
	PolicyAssigned bool             // "ActiveSync Policy Assigned"
	ActionThisYear bool             // "ActiveSync Action Applied in CY"
	EASDeviceID    string
	User           string // case-insensitive
}

// AssociationPage is a page of the admin association list.
type AssociationPage struct {
	Items      []Association `json:"items"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// Associations lists associations matching f in creation order, a page at
// a time (limit 1-10000, default 1000).
func (s *Server) Associations(f AssociationFilter, cursor string, limit int) (AssociationPage, error) {
	from, err := parseCursor(cursor)
	if err != nil {
		return AssociationPage{}, err
	}
	if limit == 0 {
		limit = uemapi.DefaultPageSize
	}
	if limit < 1 || limit > uemapi.MaxPageSize {
		return AssociationPage{}, uemapi.FieldError("limit", "must be 1-%d", uemapi.MaxPageSize)
	}
	st := s.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	year := s.now().Year()
	page := AssociationPage{Items: []Association{}}
	i := from
	for ; i < int64(len(st.assocs)) && len(page.Items) < limit; i++ {
		a := st.assocs[i]
		switch {
		case a == nil,
			f.Registered != nil && *f.Registered != (a.device != nil),
			f.State != "" && f.State != a.State(),
			f.PolicyAssigned && a.ro().policyID == "",
			f.ActionThisYear && (a.ro().actionAt == 0 || fromNanos(a.ro().actionAt).Year() != year),
			f.EASDeviceID != "" && f.EASDeviceID != a.eas,
			f.User != "" && !strings.EqualFold(f.User, a.userName):
			continue
		}
		page.Items = append(page.Items, st.view(a))
	}
	if i < int64(len(st.assocs)) {
		page.NextCursor = strconv.FormatInt(i, 10)
	}
	return page, nil
}

// Association returns one association by id.
func (s *Server) Association(id string) (Association, error) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	a, err := s.st.assocByID(id)
	if err != nil {
		return Association{}, err
	}
	return s.st.view(a), nil
}

// FindAssociation returns the association of (EAS device id, user).
func (s *Server) FindAssociation(easDeviceID, user string) (Association, error) {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	a, ok := s.st.assocByKey[assocKey{easDeviceID, strings.ToLower(user)}]
	if !ok {
		return Association{}, uemapi.Errorf(uemapi.CodeNotFound, "no association for %q / %q", easDeviceID, user)
	}
	return s.st.view(a), nil
}

// Act applies an admin action to an association (ACT).
func (s *Server) Act(id string, a Action) (Association, error) { return s.st.associationAction(id, a) }

// AppTunnels lists app tunnels a page at a time.
func (s *Server) AppTunnels(cursor string, limit int) (uemapi.AppTunnelPage, error) {
	return s.st.tunnelPage(cursor, limit)
}

// ActOnTunnel applies Allow, Block or Remove to an app tunnel (ATM-02,
// ATM-03).
func (s *Server) ActOnTunnel(id string, a TunnelAction) (uemapi.AppTunnel, error) {
	return s.st.tunnelAction(id, a)
}

// Events returns the event log entries with Seq > after, oldest first.
func (s *Server) Events(after int64) []Event {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(s.st.events, after+1, func(e Event, seq int64) int { return int(e.Seq - seq) })
	return slices.Clone(s.st.events[i:])
}

// Preferences returns the preferences.
func (s *Server) Preferences() Preferences {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	return s.st.prefs
}

// SetPreferences validates and replaces the preferences.
func (s *Server) SetPreferences(p Preferences) (Preferences, error) { return s.st.setPreferences(p) }

// AttachmentKey returns the attachment key, generating it on first use.
func (s *Server) AttachmentKey() uemapi.AttachmentKey { return s.st.attachmentKey() }

// RegenerateKey generates a new attachment key and notifies the gateways.
func (s *Server) RegenerateKey() uemapi.AttachmentKey { return s.st.regenerateKey() }

// PolicyInfo is a policy with its "# Phones" count (ASP-16).
type PolicyInfo struct {
	uemapi.ActiveSyncPolicy
	Phones int `json:"phones"`
}

// Policies lists the ActiveSync policies.
func (s *Server) Policies() []PolicyInfo {
	ps := s.st.policyList()
	out := make([]PolicyInfo, len(ps))
	for i, p := range ps {
		out[i] = PolicyInfo{p, s.st.policyPhones(p.ID)}
	}
	return out
}

// Policy returns one policy.
func (s *Server) Policy(id string) (uemapi.ActiveSyncPolicy, error) { return s.st.policy(id) }

// CreatePolicy validates and adds a policy; names are unique (ASP-01).
func (s *Server) CreatePolicy(p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	return s.st.createPolicyLocked(p)
}

// UpdatePolicy replaces a policy and pushes it to its devices (FLOW-09).
func (s *Server) UpdatePolicy(id string, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error) {
	return s.st.updatePolicy(id, p)
}

// DeletePolicy deletes a policy; the default one cannot be deleted.
func (s *Server) DeletePolicy(id string) error { return s.st.deletePolicy(id) }

// Gateways lists the gateway entries.
func (s *Server) Gateways() []GatewayEntry {
	s.st.mu.RLock()
	defer s.st.mu.RUnlock()
	out := make([]GatewayEntry, 0, len(s.st.gateways))
	for _, id := range s.st.gatewayIDs() {
		out = append(out, cloneGateway(s.st.gateways[id]))
	}
	return out
}

// Gateway returns one gateway entry.
func (s *Server) Gateway(id string) (GatewayEntry, error) { return s.st.gateway(id) }

// AddGateway adds a gateway entry; the token and notification secret are
// generated when empty, and the configuration defaults when zero.
func (s *Server) AddGateway(g GatewayEntry) (GatewayEntry, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	p, err := s.st.addGatewayLocked(g)
	if err != nil {
		return GatewayEntry{}, err
	}
	return cloneGateway(p), nil
}

// SetGatewayConfig validates and saves a gateway's configuration, then
// pushes config.changed (ENT-01).
func (s *Server) SetGatewayConfig(id string, c uemapi.GatewayConfig) (GatewayEntry, error) {
	return s.st.setGatewayConfig(id, c)
}

// SetGatewayEnabled enables or disables a gateway entry (ENT-03, ENT-04).
func (s *Server) SetGatewayEnabled(id string, enabled bool) (GatewayEntry, error) {
	return s.st.setGatewayEnabled(id, enabled)
}

// DeleteGateway deletes a gateway entry.
func (s *Server) DeleteGateway(id string) error { return s.st.deleteGateway(id) }

// Deliveries returns the notification delivery log, oldest first.
func (s *Server) Deliveries() []Delivery { return s.notifier.list() }

// Generate adds synthetic users, devices and associations.
func (s *Server) Generate(g Generate) error { return s.st.generate(g) }

// DeviceReports is how many device reports (POST device-report) the
// gateway API has answered since the start: a load test counts first
// accesses with it (a device served from the gateway's cache adds none).
func (s *Server) DeviceReports() int64 { return s.reports.Load() }
