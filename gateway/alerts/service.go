package alerts

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Service is the gateway's alerts: the store and the notifications. A nil
// *Service raises nothing, so hooks need no check.
type Service struct {
	store  *Store
	notify atomic.Pointer[Notifier] // nil: no webhook and no e-mail
	cfg    atomic.Pointer[Config]   // the notification settings (ALR-07); nil: none
	log    *slog.Logger
	now    func() time.Time
	setMu  sync.Mutex // one SetConfig at a time
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
	s := &Service{store: st, now: now, log: log}
	if cfg != nil {
		n, err := s.notifierFor(*cfg)
		if err != nil {
			st.Close()
			return nil, err
		}
		c := *cfg
		s.cfg.Store(&c)
		s.notify.Store(n)
	}
	return s, nil
}

// notifierFor starts cfg's notifications; nil when it sends none.
func (s *Service) notifierFor(cfg Config) (*Notifier, error) {
	if !cfg.SendNotifications && cfg.Webhook == "" {
		return nil, nil
	}
	pass := ""
	if cfg.SMTP.AuthRequired && cfg.SMTP.PasswordFile != "" {
		b, err := os.ReadFile(cfg.SMTP.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("alerts.smtp.password_file: %w", err)
		}
		pass = strings.TrimSpace(string(b))
	}
	return NewNotifier(cfg, pass, s.log, s.now), nil
}

// Config is the notification settings in force (ALR-07); the zero Config
// (validated: discard, 10-minute batches) when none was given.
func (s *Service) Config() Config {
	if s != nil {
		if c := s.cfg.Load(); c != nil {
			return *c
		}
	}
	var c Config
	_ = c.Validate()
	return c
}

// SetConfig validates cfg (the error names the field) and puts it in
// force at run time: the next alert uses it. The previous notifier mails
// its pending batch and stops.
func (s *Service) SetConfig(cfg Config) error {
	if s == nil {
		return fmt.Errorf("alerts: this gateway has no alerts")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	n, err := s.notifierFor(cfg)
	if err != nil {
		return err
	}
	s.setMu.Lock()
	defer s.setMu.Unlock()
	s.cfg.Store(&cfg)
	if old := s.notify.Swap(n); old != nil {
		old.Close()
	}
	return nil
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
	if n := s.notify.Load(); n != nil {
		n.Notify(a) // an alert racing a SetConfig may meet the closed notifier: Notify drops it
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
	return s.notify.Load()
}

// Close flushes the batch, waits for deliveries and closes the store.
func (s *Service) Close() error {
	if s == nil {
		return nil
	}
	if n := s.notify.Load(); n != nil {
		n.Close()
	}
	return s.store.Close()
}
