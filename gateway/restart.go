package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
)

// Clear Configuration (CFG-03): the seeds return the appliance to its
// default configuration and reboot it. The gateway cannot restart its own
// process, so it asks whoever runs it: RestartRequested is closed, and
// `gatehouse gateway` shuts this Server down and starts a new one with
// the same bootstrap configuration in the same process (docs/gateway.md,
// "Clear Configuration"). The saved run-time local settings
// (local-config.xml: audit, fail-open, statistics interval, syslog, alert
// notifications) are removed first and the Sentry and MICS logs live in
// memory only, so the new Server starts with the bootstrap values. The
// device list (devices.db) and the UEM's configuration (uem-config.json)
// are not the appliance's configuration (CFG-04): they stay, as across
// any restart, and the UEM's configuration is fetched again at start.

// RestartRequested is closed when the admin API asked for a restart
// (Clear Configuration). A Server whose runner never reads it is not
// restarted: ClearConfig is refused then (SetRestartable).
func (s *Server) RestartRequested() <-chan struct{} { return s.restartChan() }

// SetRestartable says that the caller restarts the Server when
// RestartRequested is closed; without it Clear Configuration is refused.
func (s *Server) SetRestartable() {
	s.mu.Lock()
	s.restartable = true
	s.mu.Unlock()
}

func (s *Server) restartChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.restart == nil {
		s.restart = make(chan struct{})
	}
	return s.restart
}

// errNotRestartable: nobody restarts this Server (an in-process lab).
var errNotRestartable = errors.New("this gateway is not run by `gatehouse gateway` and cannot restart itself: restart it to clear its run-time settings")

// clearConfig is Clear Configuration: a RESTART alert, then the restart.
func (s *Server) clearConfig() error {
	ch := s.restartChan()
	s.mu.Lock()
	ok := s.restartable
	s.mu.Unlock()
	if !ok {
		return errNotRestartable
	}
	if err := os.Remove(s.localConfigPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clear configuration: %w", err)
	}
	s.log.Warn("Clear Configuration: restarting with the bootstrap configuration", "data_dir", s.cfg.DataDir,
		"kept", []string{"devices.db", filepath.Base(s.configCachePath())})
	s.alerts.Raise(alerts.Alert{ID: alerts.IDRestart, Level: alerts.Warning, Description: "Clear Configuration: the gateway restarts with its default configuration"})
	s.restartOnce.Do(func() { close(ch) })
	return nil
}
