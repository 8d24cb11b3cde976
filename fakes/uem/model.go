package uem

import (
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// User is a UEM user (one mailbox).
type User struct {
	ID        string `json:"id"`
	UPN       string `json:"upn"`
	Email     string `json:"email"`
	MailboxID string `json:"mailbox_id"`
	// Custom1 and Custom2 are the LDAP extensionAttribute1/2 mapped to
	// $USER_CUSTOM1$ (user name) and $USER_CUSTOM2$ (email) of an extra
	// pushed account (MMB-07, accounts.go).
	Custom1 string `json:"custom1,omitempty"`
	Custom2 string `json:"custom2,omitempty"`

	mbHead      *assoc  // first association of the mailbox
	firstDevice *Device // the user's devices, chained by Device.nextOfOwner
}

// Device is a registered (managed) device in the UEM's Devices view.
type Device struct {
	UUID         string   `json:"uuid"`
	UserID       string   `json:"user_id"` // the registered user (ASA-01)
	Platform     string   `json:"platform"`
	Model        string   `json:"model,omitempty"`
	PhoneNumber  string   `json:"phone_number,omitempty"`
	EASDeviceIDs []string `json:"eas_device_ids,omitempty"`
	// SecurityViolation: the last check-in found the device out of
	// compliance with its security policy (FLOW-08).
	SecurityViolation bool `json:"security_violation"`
	Retired           bool `json:"retired"`
	// AppTunnelsBlocked is the device-level Block AppTunnels (ATM-04).
	AppTunnelsBlocked bool `json:"app_tunnels_blocked"`
	// AuthorizedApps lists the app ids authorised on the device (FLOW-06).
	AuthorizedApps []string  `json:"authorized_apps,omitempty"`
	RegisteredAt   time.Time `json:"registered_at,omitzero"`

	// Associations linked to the device: the first one inline (the usual
	// case), more behind a pointer. Use links() to read them.
	link      *assoc
	moreLinks *[]*assoc
	// nextOfOwner chains the devices of one user (User.firstDevice).
	nextOfOwner *Device
}

// links returns the associations linked to d.
func (d *Device) links() []*assoc {
	if d.link == nil {
		return nil
	}
	out := []*assoc{d.link}
	if d.moreLinks != nil {
		out = append(out, *d.moreLinks...)
	}
	return out
}

// Status values of an association (ASA-03).
const (
	StatusRegistered   = "Registered(Linked)"
	StatusUnregistered = "Unregistered (Unlinked)"
)

// Association is an ActiveSync association as the UEM's ActiveSync view
// shows it: one per (EAS device id, user) (ASA-01, ASA-02, ASA-07).
type Association struct {
	ID            string           `json:"id"`
	DeviceID      string           `json:"device_id"` // the EAS device id
	User          string           `json:"user"`
	Number        string           `json:"number,omitempty"` // phone number
	Phone         string           `json:"phone,omitempty"`  // model
	OS            string           `json:"os,omitempty"`
	Status        string           `json:"status"` // StatusRegistered / StatusUnregistered
	Registered    bool             `json:"registered"`
	DeviceUUID    string           `json:"device_uuid,omitempty"` // linked managed device
	SyncStatus    string           `json:"sync_status"`           // Allowed / Blocked / Wiped
	State         uemapi.SyncState `json:"state"`
	Reason        uemapi.Reason    `json:"reason"`
	FirstSyncTime time.Time        `json:"first_sync_time"`
	LastSyncTime  time.Time        `json:"last_sync_time,omitzero"`
	MailboxID     string           `json:"mailbox_id"`
	Domain        string           `json:"domain"` // the gateway entry that reported it
	// PolicyID is the manually assigned policy (ACT-13), empty when the
	// Default ActiveSync Policy behaviour applies.
	PolicyID       string    `json:"policy_id,omitempty"`
	PolicyName     string    `json:"policy_name,omitempty"`
	Comment        string    `json:"comment,omitempty"`
	RedirectURL    string    `json:"redirect_url,omitempty"`
	ManualOverride bool      `json:"manual_override"` // ACT-04
	WipeAcked      time.Time `json:"wipe_acknowledged,omitzero"`
	LastActionAt   time.Time `json:"last_action_at,omitzero"`
}

// Event is one entry of the UEM event log (Log > Browse All, ACT-16).
type Event struct {
	Seq           int64     `json:"seq"`
	Time          time.Time `json:"time"`
	Action        string    `json:"action"` // Block, Reinstate, Wipe, Remove, Register, Link To, Assign Policy, Revert Policy, ...
	Automatic     bool      `json:"automatic"`
	AssociationID string    `json:"association_id,omitempty"`
	DeviceID      string    `json:"device_id,omitempty"`
	DeviceUUID    string    `json:"device_uuid,omitempty"`
	User          string    `json:"user,omitempty"`
	AppTunnelID   string    `json:"app_tunnel_id,omitempty"`
	// Message names the security-policy cause for automatic actions and
	// holds the admin's note (possibly empty) for manual ones.
	Message string `json:"message"`
}

// Event actions.
const (
	EventBlock          = "Block"
	EventReinstate      = "Reinstate"
	EventWipe           = "Wipe"
	EventRemove         = "Remove"
	EventRegister       = "Register"
	EventLinkTo         = "Link To"
	EventAssignPolicy   = "Assign Policy"
	EventRevertPolicy   = "Revert Policy"
	EventWipeAcked      = "Wipe Acknowledged"
	EventTunnelsBlocked = "Block AppTunnels"
	EventTunnelsAllowed = "Allow AppTunnels"
)

// DefaultGatewayPort is the default port of a gateway entry.
const DefaultGatewayPort = 9090

// Preferences are the gateway preferences (PREF-01).
type Preferences struct {
	AutoBlockUnregistered bool `json:"auto_block_unregistered"` // default false (PREF-02)
	StrictLinking         bool `json:"strict_linking"`          // default false (PREF-06)
	// IntegratedSyncIntervalMinutes applies to Integrated gateways only
	// (PREF-07), default 240.
	IntegratedSyncIntervalMinutes int `json:"integrated_sync_interval_minutes"`
	// DefaultPolicyBehavior: apply_server_policy (default, DEF-02) or
	// remove_server_policy (PREF-09).
	DefaultPolicyBehavior uemapi.PolicyBehavior `json:"default_policy_behavior"`
	// ServiceAccountNotificationEmail: comma-separated addresses (PREF-08).
	ServiceAccountNotificationEmail string `json:"service_account_notification_email,omitempty"`
	// DocsAtWorkOriginal: "Docs@Work (Original)" is enabled; forces
	// AES-128 attachment keys (ATT-08).
	DocsAtWorkOriginal bool `json:"docs_at_work_original"`
}

// DefaultPreferences returns the factory preferences.
func DefaultPreferences() Preferences {
	return Preferences{
		IntegratedSyncIntervalMinutes: 240,
		DefaultPolicyBehavior:         uemapi.PolicyApplyServer,
	}
}

// GatewayEntry is a gateway ("Sentry") entry (ENT-07).
type GatewayEntry struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Host string `json:"host"`
	Port int    `json:"port"` // default 9090
	// Enabled: UEM → gateway notifications are sent (ENT-03, ENT-04).
	Enabled bool `json:"enabled"`
	// Token authenticates the gateway to the UEM (Bearer).
	Token string `json:"token,omitempty"`
	// NotifySecret signs notifications (HMAC-SHA256); base64 in JSON.
	NotifySecret []byte `json:"notify_secret,omitempty"`
	// NotificationURL receives notifications; default
	// https://host:port/uem/v1/notifications.
	NotificationURL string               `json:"notification_url"`
	Config          uemapi.GatewayConfig `json:"config"`
	ConfigVersion   int64                `json:"config_version"`
	// Status is "" (never pushed), "Success", "Error" or "Pending" (changes
	// saved while disabled) (ENT-01).
	Status         string      `json:"status"`
	Errors         []PushError `json:"errors,omitempty"`  // "View Errors"
	Version        string      `json:"version,omitempty"` // reported by the gateway (FLOW-15)
	LastContact    time.Time   `json:"last_contact,omitzero"`
	PendingChanges bool        `json:"pending_changes"`
	// Integrated is what an integrated connector last reported: sync
	// state and the Error(s) field (INT-16).
	Integrated *uemapi.IntegratedStatus `json:"integrated,omitempty"`
}

// NotificationPath is the default path of a gateway's notification URL.
const NotificationPath = "/uem/v1/notifications"

// PushError is one failed notification push.
type PushError struct {
	Time           time.Time `json:"time"`
	NotificationID string    `json:"notification_id"`
	Type           string    `json:"type"`
	Error          string    `json:"error"`
}

// Delivery records what happened to one notification.
type Delivery struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	GatewayID string    `json:"gateway_id"`
	Attempts  int       `json:"attempts"`
	Status    string    `json:"status"` // delivered, failed, dropped, discarded_disabled
	LastError string    `json:"last_error,omitempty"`
	Time      time.Time `json:"time"`
}

// Delivery statuses.
const (
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryDropped   = "dropped" // fault: drop notifications
	DeliveryDisabled  = "discarded_disabled"
)
