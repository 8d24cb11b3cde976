package alerts

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Service is the gateway's alerts: the store and the notifications. A nil
// *Service raises nothing, so hooks need no check.
type Service struct {
	store  *Store
	notify *Notifier // nil: no webhook and no e-mail
	now    func() time.Time
}

// FileName is the store's file in the data dir.
const FileName = "alerts.log"

// Open opens dataDir's alert store and starts cfg's notifications (cfg
// nil: none). now is the clock, nil for time.Now.
func Open(dataDir string, cfg *Config, log *slog.Logger, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	st, err := OpenStore(filepath.Join(dataDir, FileName))
	if err != nil {
		return nil, err
	}
	s := &Service{store: st, now: now}
	if cfg != nil && (cfg.SendNotifications || cfg.Webhook != "") {
		pass := ""
		if cfg.SMTP.AuthRequired && cfg.SMTP.PasswordFile != "" {
			b, err := os.ReadFile(cfg.SMTP.PasswordFile)
			if err != nil {
				st.Close()
				return nil, fmt.Errorf("alerts.smtp.password_file: %w", err)
			}
			pass = strings.TrimSpace(string(b))
		}
		s.notify = NewNotifier(*cfg, pass, log, now)
	}
	return s, nil
}

// Raise keeps a (its Time set when zero) and notifies it. Levels under
// Warning are not alerts (ALR-01) and are ignored.
func (s *Service) Raise(a Alert) {
	if s == nil || a.Level < Warning {
		return
	}
	if a.Time.IsZero() {
		a.Time = s.now()
	}
	_ = s.store.Add(a) // a full disk loses the file copy only; the viewer still has it
	if s.notify != nil {
		s.notify.Notify(a)
	}
}

// List is the viewer: the kept alerts, newest first, matching filter (a
// case-insensitive regular expression, "" for all; ALR-06).
func (s *Service) List(filter string) ([]Alert, error) {
	re, err := Filter(filter)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, nil
	}
	return s.store.List(re), nil
}

// Notifier is the notifications, nil when none is configured.
func (s *Service) Notifier() *Notifier {
	if s == nil {
		return nil
	}
	return s.notify
}

// Close flushes the batch, waits for deliveries and closes the store.
func (s *Service) Close() error {
	if s == nil {
		return nil
	}
	if s.notify != nil {
		s.notify.Close()
	}
	return s.store.Close()
}
