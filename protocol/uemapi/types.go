package uemapi

import "time"

// SyncState is the sync status of an ActiveSync association (ASA-04) and the
// decision the UEM hands to a gateway.
type SyncState string

// Sync states.
const (
	StateAllowed SyncState = "allowed"
	StateBlocked SyncState = "blocked"
	// StateWiped: a Wipe was ordered; the gateway delivers the wipe at the
	// device's next access and acknowledges it (ACT-05, ACT-07).
	StateWiped SyncState = "wiped"
)

// Valid reports whether s is a known state.
func (s SyncState) Valid() bool {
	return s == StateAllowed || s == StateBlocked || s == StateWiped
}

// Display is the UEM portal's wording (ASA-04).
func (s SyncState) Display() string {
	switch s {
	case StateAllowed:
		return "Allowed"
	case StateBlocked:
		return "Blocked"
	case StateWiped:
		return "Wiped"
	}
	return string(s)
}

// Reason says why a decision was taken.
type Reason string

// Decision reasons. The automatic ones are the three inputs of FLOW-02.
const (
	ReasonAllowed           Reason = "allowed"            // no rule blocks the device
	ReasonSecurityViolation Reason = "security_violation" // the registered device violates its security policy
	ReasonMailboxLimit      Reason = "mailbox_limit"      // per-mailbox device count exceeded (ASP-13)
	ReasonUnregistered      Reason = "unregistered"       // auto-block unregistered devices (PREF-03)
	ReasonManualAllow       Reason = "manual_allow"       // admin Allow (ACT-02, ACT-04)
	ReasonManualBlock       Reason = "manual_block"       // admin Block (ACT-03, ACT-04)
	ReasonManualWipe        Reason = "manual_wipe"        // admin Wipe (ACT-05)
)

// Automatic reports whether the reason comes from an automatic decision.
func (r Reason) Automatic() bool {
	return r == ReasonSecurityViolation || r == ReasonMailboxLimit || r == ReasonUnregistered || r == ReasonAllowed
}

// PolicyBehavior says which ActiveSync policy the gateway gives a device.
type PolicyBehavior string

// Policy behaviours (ASP-17, PREF-09).
const (
	// PolicyAssigned: Policy holds the policy assigned to the device; push it.
	PolicyAssigned PolicyBehavior = "assigned"
	// PolicyApplyServer: no policy assigned, Default ActiveSync Policy
	// behaviour "Apply AS Server policy": pass the ActiveSync server's own
	// policy through.
	PolicyApplyServer PolicyBehavior = "apply_server_policy"
	// PolicyRemoveServer: no policy assigned, behaviour "Remove AS Server
	// policy": strip the server's policy, the device gets none.
	PolicyRemoveServer PolicyBehavior = "remove_server_policy"
)

// DeviceReport is what a gateway sends on a device's first access (FLOW-01
// step 3): POST /api/v1/devices/report.
type DeviceReport struct {
	EASDeviceID     string `json:"eas_device_id"` // required, ≤ 128 chars
	User            string `json:"user"`          // required: the user name or email the device authenticated with
	Email           string `json:"email,omitempty"`
	DeviceType      string `json:"device_type,omitempty"` // EAS DeviceType, e.g. "iPhone"
	Model           string `json:"model,omitempty"`
	OS              string `json:"os,omitempty"`
	PhoneNumber     string `json:"phone_number,omitempty"`
	UserAgent       string `json:"user_agent,omitempty"`
	ProtocolVersion string `json:"protocol_version,omitempty"` // e.g. "14.1"
	// AccessTime is when the device reached the gateway; zero means now.
	AccessTime time.Time `json:"access_time,omitzero"`
}

// Decision is the UEM's answer to a device report and the per-device item
// of the device list: the state, the ActiveSync policy and why.
type Decision struct {
	AssociationID string         `json:"association_id"`
	EASDeviceID   string         `json:"eas_device_id"`
	User          string         `json:"user"`
	State         SyncState      `json:"state"`
	Reason        Reason         `json:"reason"`
	Behavior      PolicyBehavior `json:"policy_behavior"`
	// Policy is set when Behavior is "assigned".
	Policy *ActiveSyncPolicy `json:"policy,omitempty"`
	// FirstAccess is true when the report created the association.
	FirstAccess bool `json:"first_access"`
	// Registered is true when the association is linked to a managed device.
	Registered bool `json:"registered"`
}

// DeviceEntry is one item of the device list (init and resync, FLOW-10,
// FLOW-13). The policy is given by id; the page carries each referenced
// policy once.
type DeviceEntry struct {
	AssociationID string         `json:"association_id"`
	EASDeviceID   string         `json:"eas_device_id"`
	User          string         `json:"user"`
	State         SyncState      `json:"state"`
	Behavior      PolicyBehavior `json:"policy_behavior"`
	PolicyID      string         `json:"policy_id,omitempty"`
	Registered    bool           `json:"registered"`
	RedirectURL   string         `json:"redirect_url,omitempty"`
}

// DeviceFilter selects the device list.
type DeviceFilter string

// Device list filters.
const (
	// FilterAllowed: registered (linked) associations that are allowed:
	// what a gateway loads at init (FLOW-10). Missing devices are first
	// accesses on their next attempt (FLOW-11).
	FilterAllowed DeviceFilter = "allowed"
	// FilterAll: every association in any state, for resync (FLOW-13): a
	// cached device absent from the full list was removed.
	FilterAll DeviceFilter = "all"
)

// DevicePage is one page of GET /api/v1/devices.
type DevicePage struct {
	Items []DeviceEntry `json:"items"`
	// Policies holds every policy referenced by Items, by id.
	Policies map[string]*ActiveSyncPolicy `json:"policies"`
	// NextCursor is empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// LastSeen is one item of a last-seen batch (ASA-06).
type LastSeen struct {
	EASDeviceID string    `json:"eas_device_id"`
	User        string    `json:"user"`
	Time        time.Time `json:"time"`
	RedirectURL string    `json:"redirect_url,omitempty"` // the 451 redirect the gateway remembers (RDR-04)
}

// LastSeenBatch is the body of POST /api/v1/devices/last-seen.
type LastSeenBatch struct {
	Items []LastSeen `json:"items"`
}

// LastSeenResult tells which items were applied and which are unknown to
// the UEM (the gateway should treat those as first accesses).
type LastSeenResult struct {
	Updated int        `json:"updated"`
	Unknown []LastSeen `json:"unknown,omitempty"`
}

// WipeAck is the body of POST /api/v1/devices/wipe-ack: the gateway
// delivered the wipe to the device.
type WipeAck struct {
	EASDeviceID string    `json:"eas_device_id"`
	User        string    `json:"user"`
	Time        time.Time `json:"time,omitzero"`
}

// TunnelVersion is the tunnel header protocol version (ATS-18).
type TunnelVersion string

// Tunnel versions.
const (
	TunnelV1 TunnelVersion = "V1"
	TunnelV2 TunnelVersion = "V2"
)

// TunnelState is the state of an app tunnel (ATM-01).
type TunnelState string

// Tunnel states.
const (
	TunnelAllow TunnelState = "allow"
	TunnelBlock TunnelState = "block"
)

// AppTunnelReport is the body of POST /api/v1/apptunnels/report: an app's
// first access through the gateway (FLOW-06).
type AppTunnelReport struct {
	AppID      string        `json:"app_id"`      // bundle id / package
	User       string        `json:"user"`        // user name or email
	DeviceUUID string        `json:"device_uuid"` // the managed device's UUID
	Service    string        `json:"service"`
	Version    TunnelVersion `json:"version"`
}

// AppTunnel is a tunnel as the UEM records it, and the answer to a report.
type AppTunnel struct {
	ID            string        `json:"id"`
	AppID         string        `json:"app_id"`
	User          string        `json:"user"`
	DeviceUUID    string        `json:"device_uuid"`
	Service       string        `json:"service"`
	Version       TunnelVersion `json:"version"`
	State         TunnelState   `json:"state"`
	Reason        string        `json:"reason"`
	Registered    bool          `json:"registered"`
	CreationTime  time.Time     `json:"creation_time"`
	LastConnected time.Time     `json:"last_connected,omitzero"`
	GatewayID     string        `json:"gateway_id,omitempty"`
}

// AppTunnelPage is one page of GET /api/v1/apptunnels.
type AppTunnelPage struct {
	Items      []AppTunnel `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// KeyAlgorithm is the attachment encryption algorithm (ATT-08).
type KeyAlgorithm string

// Attachment key algorithms.
const (
	AES128ECB KeyAlgorithm = "AES-128-ECB"
	AES256GCM KeyAlgorithm = "AES-256-GCM"
)

// AttachmentKey is the answer of GET /api/v1/attachment-key.
type AttachmentKey struct {
	ID        string       `json:"id"`
	Algorithm KeyAlgorithm `json:"algorithm"`
	Key       []byte       `json:"key"` // base64 in JSON; 16 or 32 bytes
	CreatedAt time.Time    `json:"created_at"`
}

// Connectivity is the answer of GET /api/v1/connectivity.
type Connectivity struct {
	APIVersion    string    `json:"api_version"`
	GatewayID     string    `json:"gateway_id"`
	Enabled       bool      `json:"enabled"`
	Time          time.Time `json:"time"`
	ConfigVersion int64     `json:"config_version"`
}

// ConfigDocument is the answer of GET /api/v1/config: the gateway's full
// configuration plus the UEM-wide settings it needs. Version increases on
// every change; the ETag header is its quoted form.
type ConfigDocument struct {
	GatewayID      string         `json:"gateway_id"`
	Version        int64          `json:"version"`
	Config         GatewayConfig  `json:"config"`
	PolicyBehavior PolicyBehavior `json:"default_policy_behavior"`
}
