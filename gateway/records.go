package gateway

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/internal/clock"
)

// openRecords opens what the gateway records in its data directory: the
// audit log (with its syslog forwarding), the alerts (ALR-01..10) and the
// Sentry log (LOG-01..08).
func (s *Server) openRecords(cfg Config, log *slog.Logger) (err error) {
	// The audit log is always open, so that `ctl audit on` can switch it
	// on at run time (AUD-11); cfg.Audit is its state at start.
	if s.auditF, err = os.OpenFile(filepath.Join(cfg.DataDir, "audit.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return fmt.Errorf("gateway: audit log: %w", err)
	}
	host, _ := os.Hostname()
	s.audit = audit.New(s.auditF, host, nil)
	s.audit.SetEnabled(cfg.Audit)
	if cfg.Syslog != nil {
		fwd, err := audit.NewSyslog(*cfg.Syslog, host)
		if err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		s.audit.SetSyslog(fwd)
	}
	if s.alerts, err = alerts.Open(cfg.DataDir, cfg.Alerts, log, clock.Or(cfg.Clock).Now); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	// ALR-04: the seeds' RESTART alert, one per start of the gateway.
	s.alerts.Raise(alerts.Alert{ID: alerts.IDRestart, Level: alerts.Warning, Service: "Sentry", Description: "Sentry started (" + host + ")"})
	return s.openSentryLog()
}
