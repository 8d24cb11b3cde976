// Package exmgmt is the management contract between an integrated
// connector and Exchange: the JSON shapes of the calls an Integrated
// Sentry makes through Exchange's cmdlets (Get-CASMailbox,
// Get-MobileDevice, Set-CASMailbox, Clear-MobileDevice, the device access
// rules) and a client. fakes/exchange serves it under [Prefix];
// gateway/integrated consumes it. fakes/exchange/README.md maps each call
// to the cmdlet it models.
package exmgmt

import "time"

// Prefix is the URL prefix of the management API.
const Prefix = "/mgmt/v1"

// AccessLevel is what a device access rule or the organisation's default
// does with a device (New-ActiveSyncDeviceAccessRule -AccessLevel).
type AccessLevel string

// Access levels.
const (
	LevelAllow      AccessLevel = "Allow"
	LevelBlock      AccessLevel = "Block"
	LevelQuarantine AccessLevel = "Quarantine"
)

// Valid reports whether l is a known level.
func (l AccessLevel) Valid() bool {
	return l == LevelAllow || l == LevelBlock || l == LevelQuarantine
}

// AccessState is a device's DeviceAccessState.
type AccessState string

// Device access states.
const (
	StateAllowed     AccessState = "Allowed"
	StateBlocked     AccessState = "Blocked"
	StateQuarantined AccessState = "Quarantined"
)

// Why a device has its access state (DeviceAccessStateReason).
const (
	ReasonGlobal     = "Global"     // the organisation's default access level
	ReasonIndividual = "Individual" // the mailbox's allowed or blocked device ids
	ReasonDeviceRule = "DeviceRule" // a device access rule
)

// Rule characteristics (New-ActiveSyncDeviceAccessRule -Characteristic).
const (
	ByModel = "DeviceModel"
	ByType  = "DeviceType"
)

// Wipe states of a device (Get-MobileDeviceStatistics DeviceWipeStatus).
const (
	WipeNone               = ""
	WipePending            = "WipePending"
	WipeAccountOnlyPending = "AccountOnlyWipePending"
	WipeDone               = "Wiped"
	WipeAccountOnlyDone    = "AccountOnlyWiped"
)

// Mailbox is one item of Get-CASMailbox.
type Mailbox struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// Groups are the full DNs of the groups the mailbox's user is in (LDAP
	// or Office 365 groups), for group scoping.
	Groups []string `json:"groups,omitempty"`
	// HasActiveSyncDevicePartnership is the stored flag; it may be stale
	// (migrated mailboxes, removed devices) until recalculated (INT-12/13).
	HasActiveSyncDevicePartnership bool      `json:"has_activesync_device_partnership"`
	AllowedDeviceIDs               []string  `json:"allowed_device_ids,omitempty"` // ActiveSyncAllowedDeviceIDs
	BlockedDeviceIDs               []string  `json:"blocked_device_ids,omitempty"` // ActiveSyncBlockedDeviceIDs
	ActiveSyncMailboxPolicy        string    `json:"activesync_mailbox_policy,omitempty"`
	WhenChanged                    time.Time `json:"when_changed"`
}

// Device is one item of Get-MobileDevice (with its statistics).
type Device struct {
	User              string      `json:"user"`
	DeviceID          string      `json:"device_id"`
	DeviceType        string      `json:"device_type"`
	Model             string      `json:"model,omitempty"`
	UserAgent         string      `json:"user_agent,omitempty"`
	FirstSync         time.Time   `json:"first_sync"`
	LastSync          time.Time   `json:"last_sync"`
	AccessState       AccessState `json:"access_state"`
	AccessStateReason string      `json:"access_state_reason"`
	WipeState         string      `json:"wipe_state,omitempty"`
	// WhenChanged moves on creation, access list changes, wipe; NOT on a
	// sync (LastSync), so a differential does not see sync times (INT-15).
	WhenChanged time.Time `json:"when_changed"`
}

// Rule is a device access rule (New-ActiveSyncDeviceAccessRule).
type Rule struct {
	Name           string      `json:"name"`
	Characteristic string      `json:"characteristic"` // ByModel or ByType
	QueryString    string      `json:"query_string"`   // exact, case-insensitive
	AccessLevel    AccessLevel `json:"access_level"`
}

// Organization is Get-ActiveSyncOrganizationSettings plus when the rules,
// the default level or the policies last changed (what escalates a
// differential to a full sync, INT-10).
type Organization struct {
	DefaultAccessLevel AccessLevel `json:"default_access_level"`
	RulesChanged       time.Time   `json:"rules_changed"`
}

// MailboxPage is one page of mailboxes.
type MailboxPage struct {
	Items      []Mailbox `json:"items"`
	NextCursor string    `json:"next_cursor,omitempty"`
	ServerTime time.Time `json:"server_time"`
}

// DevicePage is one page of devices.
type DevicePage struct {
	Items      []Device  `json:"items"`
	NextCursor string    `json:"next_cursor,omitempty"`
	ServerTime time.Time `json:"server_time"`
}

// AccessChange is Set-CASMailbox -ActiveSyncAllowedDeviceIDs /
// -ActiveSyncBlockedDeviceIDs @{Add=…; Remove=…} and
// -ActiveSyncMailboxPolicy: adding an id to one list removes it from the
// other.
type AccessChange struct {
	Allow  []string `json:"allow,omitempty"`  // add to allowed (and remove from blocked)
	Block  []string `json:"block,omitempty"`  // add to blocked (and remove from allowed)
	Forget []string `json:"forget,omitempty"` // remove from both
	Policy *string  `json:"policy,omitempty"` // ActiveSync mailbox policy name
}

// WipeRequest is Clear-MobileDevice [-AccountOnly].
type WipeRequest struct {
	AccountOnly bool `json:"account_only,omitempty"`
}

// Recalculated answers Get-CASMailbox -RecalculateHasActiveSyncDevicePartnership.
type Recalculated struct {
	Mailboxes int `json:"mailboxes"`
	Changed   int `json:"changed"`
}

// ListOptions select a page: after Cursor, at most Limit, changed after
// Since (zero: all), only mailboxes with a partnership.
type ListOptions struct {
	Cursor          string
	Limit           int
	Since           time.Time
	WithPartnership bool
}

// MaxPage bounds a page's Limit.
const MaxPage = 5000

// AccessItem is one mailbox's change in a batch.
type AccessItem struct {
	User   string       `json:"user"`
	Change AccessChange `json:"change"`
}

// AccessBatch runs Set-CASMailbox for many mailboxes in one remote
// PowerShell pipeline (Import-Csv | Set-CASMailbox): at most MaxBatch
// items; an unknown mailbox refuses the batch.
type AccessBatch struct {
	Items []AccessItem `json:"items"`
}

// MailboxBatch answers an AccessBatch: the mailboxes, in order.
type MailboxBatch struct {
	Items []Mailbox `json:"items"`
}

// MaxBatch bounds an AccessBatch.
const MaxBatch = 1000
