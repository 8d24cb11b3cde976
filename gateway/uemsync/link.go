package uemsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// UEM is the part of the gateway-UEM contract the gateway calls;
// *uemapi.Client implements it.
type UEM interface {
	Connectivity(ctx context.Context) (*uemapi.Connectivity, error)
	ReportDevice(ctx context.Context, r uemapi.DeviceReport) (*uemapi.Decision, error)
	ReportLastSeen(ctx context.Context, items []uemapi.LastSeen) (*uemapi.LastSeenResult, error)
	AckWipe(ctx context.Context, a uemapi.WipeAck) error
	EachDevicePage(ctx context.Context, filter uemapi.DeviceFilter, limit int, fn func(*uemapi.DevicePage) error) error
}

// Config configures a Link. Zero durations take the seeds' defaults.
type Config struct {
	UEM      UEM
	Cache    *devicecache.Cache
	Store    *devicecache.Store // the persistent device list; nil for none
	Policies *Policies

	CheckInterval    time.Duration // connectivity check, default 15 min (DEF-05, FO-07)
	ResyncInterval   time.Duration // periodic resync, default 12 h (DEF-05, FLOW-14)
	PersistInterval  time.Duration // persistent list write, default 5 min, at least 10 s (DEF-03)
	LastSeenInterval time.Duration // last-seen reports to the UEM, default 5 min (ASA-06)
	CallTimeout      time.Duration // one UEM call, default 10 s
	PageSize         int           // device list page, default 10,000

	// FailOpen is the initial "New device access when EMM server is
	// unreachable" setting: true = Allow (the default, FO-01).
	FailOpen bool

	// OnConfigChange and OnKeyChange are called for the matching
	// notifications; the gateway refetches configuration or the key. An
	// error is answered to the UEM, which shows it on the gateway entry
	// ("View Errors").
	OnConfigChange func(version int64) error
	OnKeyChange    func(uemapi.KeyChange) error
	// OnReconnect is called when the UEM is reachable again after an
	// outage, so that the gateway can fetch what it missed (its
	// configuration); the device list is reloaded here. ctx ends with
	// the link (Stop) or with the Run that noticed the return.
	OnReconnect func(ctx context.Context)
	// OnConnectivity, when set, is told each change of the UEM's
	// connectivity (connected, how it was detected, the error when
	// lost) and each new refusal (connected false, the refusal as err).
	// It is called under the link's lock: it must not call the Link.
	OnConnectivity func(connected bool, by string, err error)

	// MaxNotificationIDs caps the notification ids remembered against
	// replay (DefaultMaxNotificationIDs when zero); when full, new
	// notifications are refused (503) until older ids expire.
	MaxNotificationIDs int

	Now func() time.Time
	Log *slog.Logger
}

const minPersistInterval = 10 * time.Second

func (c *Config) setDefaults() error {
	if c.UEM == nil || c.Cache == nil {
		return errors.New("uemsync: UEM and Cache are required")
	}
	if c.Policies == nil {
		c.Policies = NewPolicies()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.CheckInterval, 15*time.Minute)
	def(&c.ResyncInterval, 12*time.Hour)
	def(&c.PersistInterval, 5*time.Minute)
	def(&c.LastSeenInterval, 5*time.Minute)
	def(&c.CallTimeout, 10*time.Second)
	if c.PersistInterval < minPersistInterval {
		return fmt.Errorf("uemsync: persist interval %v is below the minimum %v (DEF-03)", c.PersistInterval, minPersistInterval)
	}
	if c.MaxNotificationIDs <= 0 {
		c.MaxNotificationIDs = DefaultMaxNotificationIDs
	}
	if c.PageSize <= 0 || c.PageSize > 10000 {
		c.PageSize = 10000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}

// Link is the gateway's side of the UEM relationship.
type Link struct {
	cfg Config

	mu              sync.Mutex
	status          Status
	defaultBehavior uemapi.PolicyBehavior
	pendingAcks     []uemapi.WipeAck
	// acking is held while pending wipe acknowledgements are sent, so
	// that a caller finding them taken by a concurrent retry (the
	// reconnect work) waits for it and returns with them sent.
	acking       sync.Mutex
	lastSeenSent time.Time
	notes        notifyIDs // applied notification ids, against replay
	// writeDue: a write of the persistent list failed since the last
	// success (writeretry.go); writer is where it writes (cfg.Store).
	writeDue atomic.Bool
	writer   storeWriter
	// notesDue: writing an applied notification id failed since the
	// last success (replaystore.go).
	notesDue atomic.Bool

	// The link owns the work it starts in the background (the reconnect
	// work a device request or a CLI reload sets off): bg is its context
	// (made with the first such work), cancelled by Stop, which then
	// waits for it on bgWG. bgStopped refuses new work once Stop has
	// begun, so that no bgWG.Add races the Wait. bg, stopBg and
	// bgStopped are under mu.
	bg        context.Context
	stopBg    context.CancelFunc
	bgWG      sync.WaitGroup
	bgStopped bool
}

// Who detected a change, as `show sentry status` words it (FO-05, FO-06).
const (
	ByPeriodicCheck = "Periodic connectivity check"
	ByInit          = "Sentry initialization"
	ByVerify        = "Service diagnosis verify"
	ByRequest       = "Device request"
	ByCLI           = "CLI"
)

// Status is what `show sentry status` reports about the UEM (FO-05).
type Status struct {
	Connected    bool
	LastChange   time.Time
	LastChangeBy string
	LastSuccess  time.Time
	LastFailure  time.Time
	NextCheck    time.Time
	LastError    string
	// Refusal is set while the UEM answers but refuses the gateway: its
	// credentials (401, 403) or its rate (429). The UEM is not
	// unreachable then (Connected does not change and fail-open does not
	// apply); the gateway's UEM status is an error, with this reason,
	// until a call is accepted. RefusedSince is when it began.
	Refusal           string
	RefusedSince      time.Time
	FailOpen          bool
	FailOpenChangedBy string
	FailOpenChangedAt time.Time
}

// New returns a link; call Init, then Run.
func New(cfg Config) (*Link, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	now := cfg.Now()
	l := &Link{
		cfg:             cfg,
		defaultBehavior: uemapi.PolicyApplyServer, // DEF-02
		status: Status{
			FailOpen: cfg.FailOpen, FailOpenChangedBy: ByInit, FailOpenChangedAt: now,
		},
	}
	if cfg.Store != nil {
		l.writer = cfg.Store
	}
	return l, nil
}

// Status returns the current UEM status.
func (l *Link) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

// FailOpen reports whether new devices are allowed while the UEM is unreachable.
func (l *Link) FailOpen() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status.FailOpen
}

// SetFailOpen switches `sentry emm-fail-open` / `no sentry emm-fail-open`
// (FO-04); it takes effect at once, without a restart (FO-03).
func (l *Link) SetFailOpen(allow bool, by string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status.FailOpen != allow {
		l.status.FailOpen, l.status.FailOpenChangedBy, l.status.FailOpenChangedAt = allow, by, l.cfg.Now()
	}
}

// DefaultBehavior is the Default ActiveSync Policy behaviour for devices
// without an assigned policy, as the UEM last reported it.
func (l *Link) DefaultBehavior() uemapi.PolicyBehavior {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.defaultBehavior
}

// SetDefaultBehavior records the UEM's Default ActiveSync Policy behaviour
// (from the configuration document).
func (l *Link) SetDefaultBehavior(b uemapi.PolicyBehavior) {
	if b != uemapi.PolicyApplyServer && b != uemapi.PolicyRemoveServer {
		return
	}
	l.mu.Lock()
	l.defaultBehavior = b
	l.mu.Unlock()
}

// recordContact updates connectivity after a UEM call and reports whether
// the UEM just came back.
//
// Only a UEM that could not be asked (network error, timeout, 5xx) is
// down. One that answered is up, even with an error; one that refuses the
// gateway (401, 403, 429) raises the refusal instead and leaves the
// connectivity as it was, so that it neither looks like an outage nor
// starts the reconnect work, which would only be refused again. At start
// (nothing recorded yet) a refusal counts as not connected: the gateway
// then runs without the UEM's list, and the first accepted call must run
// the reconnect work to load it.
func (l *Link) recordContact(err error, by string) (cameBack bool) {
	now := l.cfg.Now()
	failure := uemapi.Classify(err)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.status.LastFailure, l.status.LastError = now, err.Error()
	}
	if failure == uemapi.AuthRefused || failure == uemapi.RateLimited {
		reason := refusalReason(failure, err)
		if reason != l.status.Refusal {
			l.status.Refusal, l.status.RefusedSince = reason, now
			l.cfg.Log.Error("uem refuses the gateway", "reason", reason, "detected_by", by)
			l.connectivity(false, by, errors.New(reason))
		}
		if l.status.LastChange.IsZero() {
			l.status.Connected, l.status.LastChange, l.status.LastChangeBy = false, now, by
		}
		return false
	}
	if l.status.Refusal != "" {
		l.cfg.Log.Info("uem no longer refuses the gateway", "was", l.status.Refusal, "detected_by", by)
		l.status.Refusal, l.status.RefusedSince = "", time.Time{}
	}
	up := failure != uemapi.Unreachable
	if up {
		l.status.LastSuccess = now
		if err == nil {
			l.status.LastError = ""
		}
	}
	if up != l.status.Connected || l.status.LastChange.IsZero() {
		cameBack = up && !l.status.LastChange.IsZero()
		l.status.Connected, l.status.LastChange, l.status.LastChangeBy = up, now, by
		if up {
			l.cfg.Log.Info("uem connectivity", "connected", true, "detected_by", by)
		} else {
			l.cfg.Log.Warn("uem connectivity", "connected", false, "detected_by", by, "error", err)
		}
		l.connectivity(up, by, err)
	}
	return cameBack
}

// connectivity tells OnConnectivity, when set (l.mu held).
func (l *Link) connectivity(up bool, by string, err error) {
	if l.cfg.OnConnectivity != nil {
		l.cfg.OnConnectivity(up, by, err)
	}
}

// refusalReason is the status line for a UEM that refuses the gateway; it
// carries the HTTP status, never the UEM's own words.
func refusalReason(f uemapi.Failure, err error) string {
	status := 0
	var ue *uemapi.Error
	if errors.As(err, &ue) {
		status = uemapi.StatusOf(ue)
	}
	if f == uemapi.RateLimited {
		return fmt.Sprintf("uem rate limited the gateway (%d)", status)
	}
	return fmt.Sprintf("uem refused the gateway's credentials (%d)", status)
}

func (l *Link) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, l.cfg.CallTimeout)
}
