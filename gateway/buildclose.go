package gateway

import (
	"errors"
	"log/slog"
)

// closeIfFailed is build's deferred clean-up: when *err is set, what the
// partly built Server opened is closed.
func (s *Server) closeIfFailed(err *error, log *slog.Logger) {
	if *err == nil {
		return
	}
	if cerr := s.closeBuilt(); cerr != nil {
		log.Warn("closing a partly built gateway", "error", cerr)
	}
}

// closeBuilt releases what a build that failed part-way had opened: the
// device list's bbolt store (whose file lock would make the next New on
// the same data directory wait out bbolt's 5 s lock timeout and fail),
// the audit, Sentry and MICS log files, the audit's syslog forwarders and
// the alert store. It runs only when build fails, so the Server never
// reaches Shutdown, which closes the same things on a built one.
func (s *Server) closeBuilt() error {
	var errs []error
	s.cancel()
	if s.uem != nil {
		s.uem.CloseIdleConnections()
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	if s.audit != nil {
		errs = append(errs, s.audit.Close())
		for _, fwd := range s.audit.SetSyslogs(nil) {
			errs = append(errs, fwd.Close())
		}
	}
	if s.auditF != nil {
		errs = append(errs, s.auditF.Close())
	}
	if s.alerts != nil {
		errs = append(errs, s.alerts.Close())
	}
	if s.logsF != nil {
		errs = append(errs, s.logsF.Close())
	}
	if s.micsF != nil {
		errs = append(errs, s.micsF.Close())
	}
	return errors.Join(errs...)
}
