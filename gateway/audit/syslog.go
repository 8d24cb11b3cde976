package audit

import (
	"fmt"
	"strings"
)

// Syslog forwarding (AUD-12, AUD-13, INC-05). The wire form is RFC 3164
// as rsyslog and the seeds' examples read it:
//
//	<182>Nov  7 21:23:39 host SENTRY_AUDIT: INFO {"usecaseId":…}
//
// one message per UDP datagram, or LF-terminated over TCP. The priority's
// facility is local6 for audit entries (the seeds name the Sentry log
// being forwarded, `audit`, not a syslog facility: a gatehouse decision),
// its severity that of the entry (audit entries are Info).

// SyslogTarget is one `syslog <server> [port] <protocol> <facility> <log-level> [state]`.
type SyslogTarget struct {
	Server   string `json:"server" yaml:"server" xml:"server"`
	Port     int    `json:"port" yaml:"port" xml:"port"`             // default 514
	Protocol string `json:"protocol" yaml:"protocol" xml:"protocol"` // UDP or TCP
	Facility string `json:"facility" yaml:"facility" xml:"facility"` // general, health-monitor or audit
	Level    string `json:"level" yaml:"level" xml:"level"`          // emerg … debug
	Disabled bool   `json:"disabled,omitempty" yaml:"disabled" xml:"disabled,omitempty"`
}

// severities are the syslog levels by name, most severe first (RFC 5424).
var severities = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// facilityLocal6 is the syslog facility of forwarded audit entries.
const facilityLocal6 = 22

// Validate checks the target, naming the field at fault.
func (t *SyslogTarget) Validate() error {
	if t.Port == 0 {
		t.Port = 514
	}
	switch {
	case t.Server == "":
		return fmt.Errorf("syslog: server: required")
	case t.Port < 1 || t.Port > 65535:
		return fmt.Errorf("syslog: port: %d is not 1-65535", t.Port)
	case t.Protocol != "UDP" && t.Protocol != "TCP":
		return fmt.Errorf("syslog: protocol: %q is not UDP or TCP", t.Protocol)
	case t.Facility != "general" && t.Facility != "health-monitor" && t.Facility != "audit":
		return fmt.Errorf("syslog: facility: %q is not general, health-monitor or audit", t.Facility)
	case severity(t.Level) < 0:
		return fmt.Errorf("syslog: level: %q is not one of %s", t.Level, strings.Join(severities, ", "))
	}
	return nil
}

func severity(name string) int {
	for i, s := range severities {
		if s == name {
			return i
		}
	}
	return -1
}

// SetSyslog forwards every entry written from now on to s as well (nil:
// no forwarding).
func (l *Logger) SetSyslog(s *Syslog) {
	if s == nil {
		l.SetSyslogs(nil)
		return
	}
	l.SetSyslogs([]*Syslog{s})
}

// SetSyslogs forwards every entry written from now on to each of ts
// (none: no forwarding) and returns the targets it replaces, for the
// caller to Close.
func (l *Logger) SetSyslogs(ts []*Syslog) []*Syslog {
	var old *[]*Syslog
	if len(ts) == 0 {
		old = l.syslog.Swap(nil)
	} else {
		old = l.syslog.Swap(&ts)
	}
	if old == nil {
		return nil
	}
	return *old
}

// Syslogs are the targets entries are forwarded to.
func (l *Logger) Syslogs() []*Syslog {
	if l == nil {
		return nil
	}
	if ts := l.syslog.Load(); ts != nil {
		return *ts
	}
	return nil
}

// Host is the name in each line, for new syslog targets.
func (l *Logger) Host() string {
	if l == nil {
		return ""
	}
	return l.host
}
