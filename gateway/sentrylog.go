package gateway

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/activesync"
	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// SentryLogFile is the Sentry log under the data directory: what `ctl log`
// switches on, empty while it is off (the default, LOG-08).
const SentryLogFile = "sentry.log"

// openSentryLog opens data_dir/sentry.log and the controls writing to it,
// at their defaults: the CLI's settings do not survive a restart (LOG-08).
func (s *Server) openSentryLog() error {
	f, err := os.OpenFile(filepath.Join(s.cfg.DataDir, SentryLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("gateway: sentry log: %w", err)
	}
	s.logsF, s.logs = f, logctl.New(f)
	return s.openMICSLog()
}

// SentryLog exposes the log controls to in-process tests and the lab.
func (s *Server) SentryLog() *logctl.Controls { return s.logs }

// logEntry is what the log filters match for a device request: the query's
// DeviceId and User (else the Basic user name, never logged), the
// device's IP and the service its path names.
func logEntry(r *http.Request) logctl.Entry {
	e := logctl.Entry{Service: serviceName(r.URL.Path)}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		e.DeviceIP = host
	}
	if q, err := eas.ParseQuery(r.URL.RawQuery); err == nil {
		e.DeviceID, e.User = q.DeviceID, q.User
	}
	if e.User == "" {
		if u, _, ok := r.BasicAuth(); ok {
			e.User = u
		}
	}
	return e
}

func serviceName(path string) string {
	for _, p := range activesync.Paths {
		if strings.HasPrefix(path, p) {
			return "ActiveSync"
		}
	}
	return strings.Trim(path, "/")
}
