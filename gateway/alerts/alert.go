// Package alerts raises the gateway's alerts (ALR-01..10): HTTP, Kerberos
// and ActiveSync status errors at warning level and above, kept in a store
// of the last 1,000 that survives a restart, and notified by e-mail
// (realtime, batch, Alerts Per Hour, per-alert-id overrides) and webhook.
package alerts

import (
	"fmt"
	"strings"
	"time"
)

// Level is an alert's severity; only Warning and above are raised (ALR-01).
type Level int

// Levels, in the syslog order the seeds use.
const (
	Warning Level = iota + 1
	Error
	Critical
)

func (l Level) String() string {
	switch l {
	case Warning:
		return "warning"
	case Error:
		return "error"
	case Critical:
		return "critical"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// Alert IDs that are not per ActiveSync command (ALR-03, ALR-04).
const (
	IDRestart  = "RESTART"  // the gateway started
	IDKerberos = "KERBEROS" // Kerberos constrained delegation failed
	IDHTTP     = "HTTP"     // an HTTP error on a non-ActiveSync service
	IDNTPError = "NTPERROR" // the NTP diagnosis failed (ALR-04, SVD-01)
	IDMICS     = "MICS"     // the configuration service (the UEM link) failed
)

// CommandID is the alert ID of an ActiveSync command's errors (ALR-03):
// AS_SYNC, AS_PING, AS_SENDMAIL...; AS_NONE when the command is unknown.
func CommandID(cmd string) string {
	if cmd == "" {
		cmd = "none"
	}
	return "AS_" + strings.ToUpper(cmd)
}

// Alert is one row of the alert viewer (ALR-04).
type Alert struct {
	Time        time.Time `json:"time"`
	ID          string    `json:"id"`
	Level       Level     `json:"level"`
	Device      string    `json:"device,omitempty"`
	User        string    `json:"user,omitempty"`
	Service     string    `json:"service,omitempty"`
	Description string    `json:"description"`
}

// DateLayout is the viewer's Date column, e.g. `2024 Apr 25 10:49:39`.
const DateLayout = "2006 Jan 02 15:04:05"

// Line is the alert as the viewer prints it: Date, AlertID, Device, User,
// Service, Description, tab-separated, `--` for an empty column.
func (a Alert) Line() string {
	dash := func(s string) string {
		if s == "" {
			return "--"
		}
		return s
	}
	return strings.Join([]string{a.Time.Format(DateLayout), a.ID, dash(a.Device), dash(a.User), dash(a.Service), a.Description}, "\t")
}
