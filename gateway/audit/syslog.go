package audit

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
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
	Server   string `json:"server" yaml:"server"`
	Port     int    `json:"port" yaml:"port"`         // default 514
	Protocol string `json:"protocol" yaml:"protocol"` // UDP or TCP
	Facility string `json:"facility" yaml:"facility"` // general, health-monitor or audit
	Level    string `json:"level" yaml:"level"`       // emerg … debug
	Disabled bool   `json:"disabled,omitempty" yaml:"disabled"`
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

// Syslog sends entries to one syslog server. A failed send drops the
// entry (the local audit log keeps it) and the next one redials.
type Syslog struct {
	t    SyslogTarget
	host string
	mu   sync.Mutex
	conn net.Conn
}

// NewSyslog returns a forwarder for t after validating it; host is the
// name in each message.
func NewSyslog(t SyslogTarget, host string) (*Syslog, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &Syslog{t: t, host: host}, nil
}

// Send forwards one message of the given severity ("info", …) and tag,
// if the target takes it: enabled, for the audit facility, and at a
// level that lets the severity through (AUD-13).
func (s *Syslog) Send(sev, tag, msg string, at time.Time) error {
	if s == nil || s.t.Disabled || s.t.Facility != "audit" || severity(sev) > severity(s.t.Level) {
		return nil
	}
	line := fmt.Sprintf("<%d>%s %s %s: %s", facilityLocal6*8+severity(sev), at.UTC().Format(time.Stamp), s.host, tag, msg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		c, err := net.DialTimeout(strings.ToLower(s.t.Protocol), net.JoinHostPort(s.t.Server, strconv.Itoa(s.t.Port)), 5*time.Second)
		if err != nil {
			return fmt.Errorf("syslog: %w", err)
		}
		s.conn = c
	}
	if s.t.Protocol == "TCP" {
		line += "\n"
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.conn.Write([]byte(line)); err != nil {
		s.conn.Close()
		s.conn = nil
		return fmt.Errorf("syslog: %w", err)
	}
	return nil
}

// Close closes the connection to the server.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// SetSyslog forwards every entry written from now on to s as well (nil:
// no forwarding).
func (l *Logger) SetSyslog(s *Syslog) { l.syslog.Store(s) }
