// Package admin is the gateway's admin API: the seeds' CLI reports and
// debug commands (`show sentry device-cache …`, statistics, status,
// purge, to-disk / from-disk / from-uem, clear-redirect-url,
// emm-fail-open) as token-authenticated JSON endpoints, a client for
// them, and the text tables `gatehouse ctl` prints.
package admin

import (
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// Entry is one device-cache row (DC-08).
type Entry struct {
	Index       int       `json:"index"`
	User        string    `json:"user"`
	State       string    `json:"state"`     // A, B, P or W
	Validated   string    `json:"validated"` // Y or N
	Connections uint32    `json:"connections"`
	Version     string    `json:"version"`
	Time        time.Time `json:"time,omitzero"`
	Application string    `json:"application"` // "ActiveSync/<device id>" or the app id
	TunnelID    string    `json:"tunnel_id"`
	DeviceID    string    `json:"device_id"`
	Wiped       bool      `json:"wiped,omitempty"`
	Policy      string    `json:"policy,omitempty"`
	RedirectURL string    `json:"redirect_url,omitempty"`
}

// CacheStatus is `device-cache status` (DC-16).
type CacheStatus struct {
	InMemory        int       `json:"in_memory"`
	ActiveSync      int       `json:"active_sync"`
	AppTunnel       int       `json:"app_tunnel"`
	ValidationPend  int       `json:"validation_pending"`
	Peak            int       `json:"peak"`
	PeakTime        time.Time `json:"peak_time,omitzero"`
	Persistent      int       `json:"persistent"`
	PersistentSaved time.Time `json:"persistent_saved,omitzero"`
}

// Count is the answer of the commands that print a count (DC-17/18/19, purge).
type Count struct {
	Count   int    `json:"count"`
	Message string `json:"message"`
}

// UEM states of Status.UEMState.
const (
	UEMConnected    = "connected"
	UEMNotConnected = "not connected"
	// UEMError: the UEM answers but refuses the gateway (credentials,
	// rate); Reason says why. Not an outage: fail-open does not apply.
	UEMError = "error"
)

// Status is `show sentry status` (FO-05).
type Status struct {
	EMMServerType     string    `json:"emm_server_type"`
	Connected         bool      `json:"connected"`
	UEMState          string    `json:"uem_state"`
	Reason            string    `json:"reason,omitempty"`
	ReasonSince       time.Time `json:"reason_since,omitzero"`
	LastChangeBy      string    `json:"last_change_by"`
	LastChange        time.Time `json:"last_change,omitzero"`
	CurrentTime       time.Time `json:"current_time"`
	LastSuccessful    time.Time `json:"last_successful,omitzero"`
	LastFailed        time.Time `json:"last_failed,omitzero"`
	NextScheduled     time.Time `json:"next_scheduled,omitzero"`
	FailOpen          bool      `json:"fail_open"`
	FailOpenChangedBy string    `json:"fail_open_changed_by"`
	FailOpenChangedAt time.Time `json:"fail_open_changed_at,omitzero"`
	LastError         string    `json:"last_error,omitempty"`
	// ConfigVersion is the UEM configuration version the gateway applied.
	ConfigVersion int64 `json:"config_version,omitempty"`
}

// Counter is one `key = value` statistics line.
type Counter struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// Peak is one `statistics global system` gauge with its date.
type Peak struct {
	Name  string    `json:"name"`
	Value float64   `json:"value"`
	At    time.Time `json:"at,omitzero"`
}

// Error is the JSON error body, the one shape of gatehouse's APIs:
// {"error":{"code":"...","message":"...","field":"..."}}.
type Error = httpapi.ErrorBody
