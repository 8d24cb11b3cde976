package integrated

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Kind is a kind of sync.
type Kind string

// Sync kinds (INT-09's two manual options).
const (
	Full         Kind = "full"         // "Full: All devices"
	Differential Kind = "differential" // "Differential: Devices updated since last Resync (Recommended)"
)

// ErrSyncRunning: a sync was asked for while one runs; it is dropped (INT-09).
var ErrSyncRunning = errors.New("sync is already running")

// State is the connector's sync state, as ctl shows it.
type State struct {
	Running          Kind      `json:"running,omitempty"`
	Server           string    `json:"exchange_server,omitempty"`
	LastFull         time.Time `json:"last_full,omitzero"`
	LastDifferential time.Time `json:"last_differential,omitzero"`
	LastSuccess      time.Time `json:"last_success,omitzero"` // INT-11: every successful sync, changes or not
	NeedFull         string    `json:"need_full,omitempty"`   // why the next sync is a full one
	Phase            string    `json:"phase,omitempty"`       // of a full sync in progress or to resume
	Batch            int       `json:"batch"`                 // batches done of it
	Cursor           string    `json:"cursor,omitempty"`      // where it resumes
	Mailboxes        int       `json:"mailboxes"`
	Devices          int       `json:"devices"`
	Pushed           int64     `json:"pushed"` // decisions sent to Exchange since start
	LastError        string    `json:"last_error,omitempty"`
	Dropped          int64     `json:"dropped_resyncs"` // manual resyncs dropped while one ran
}

// devKey names a partnership: mailbox (lower-case) and device id.
type devKey struct{ user, device string }

// Connector is the integrated connector. Create with New, Start, then Run.
type Connector struct {
	cfg      Config
	settings uemapi.IntegratedConfig
	ex       *exchange
	running  atomic.Pointer[Kind]
	pushed   atomic.Int64
	dropped  atomic.Int64
	kick     chan Kind

	mu        sync.Mutex
	st        State
	mailboxes map[string]exmgmt.Mailbox // in scope, by lower-case name
	known     map[devKey]*known         // partnerships in scope
	pending   *fullProgress             // a failed full sync, resumed next
	baseline  time.Time                 // Exchange's time at the start of the last successful sync
	rulesSeen time.Time                 // Exchange's rules_changed at the last full sync
	notes     map[devKey]decision       // decisions from notifications, newer than any list
	acked     map[devKey]bool           // wipes acknowledged to the UEM
	errs      []string
}

// known is what the connector knows of one partnership.
type known struct {
	dev exmgmt.Device
	dec decision
}

// decision is the UEM's word on a device.
type decision struct {
	state  uemapi.SyncState
	policy string // ActiveSync policy name, "" when none
	at     time.Time
}

// New validates cfg. Nothing runs until Start.
func New(cfg Config) (*Connector, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Connector{cfg: cfg, kick: make(chan Kind, 1), mailboxes: map[string]exmgmt.Mailbox{},
		known: map[devKey]*known{}, notes: map[devKey]decision{}, acked: map[devKey]bool{}}, nil
}

// Start fetches the configuration from the UEM (INT-01 to INT-04).
func (c *Connector) Start(ctx context.Context) error {
	doc, _, err := c.cfg.UEM.Config(ctx, "")
	if err != nil {
		return fmt.Errorf("integrated: fetch configuration: %w", err)
	}
	return c.apply(doc)
}

func (c *Connector) apply(doc *uemapi.ConfigDocument) error {
	if err := doc.Config.Validate(); err != nil {
		return fmt.Errorf("integrated: configuration %d refused: %w", doc.Version, err)
	}
	if doc.Config.Integrated == nil {
		return fmt.Errorf("integrated: configuration %d has no integrated section", doc.Version)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.settings
	c.settings = *doc.Config.Integrated
	c.ex = newExchange(&c.cfg, &c.settings)
	if old.Server != "" && !sameScope(&old, &c.settings) {
		c.st.NeedFull = "group scoping changed"
	}
	return nil
}

// State returns the sync state.
func (c *Connector) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	if k := c.running.Load(); k != nil {
		st.Running = *k
	}
	st.Pushed, st.Dropped = c.pushed.Load(), c.dropped.Load()
	if c.ex != nil {
		st.Server = c.ex.current()
	}
	return st
}

// Resync asks Run for a sync (the manual resync); while one runs it is
// dropped with ErrSyncRunning (INT-09).
func (c *Connector) Resync(k Kind) error {
	if c.running.Load() != nil {
		c.dropped.Add(1)
		return ErrSyncRunning
	}
	select {
	case c.kick <- k:
		return nil
	default:
		c.dropped.Add(1)
		return ErrSyncRunning // one is already queued and about to run
	}
}

// Sync runs one sync now. A differential becomes a full sync when one is
// due (never run, 7 days, a failed differential, a pending resume) or
// Exchange's rules changed (INT-06, INT-10). ErrSyncRunning while one runs.
func (c *Connector) Sync(ctx context.Context, k Kind) error {
	kk := k
	if !c.running.CompareAndSwap(nil, &kk) {
		c.dropped.Add(1)
		return ErrSyncRunning
	}
	defer c.running.Store(nil)
	if k == Differential {
		if why := c.fullDue(); why != "" {
			c.cfg.Log.Info("integrated: differential escalated to full", "reason", why)
			kk = Full
		}
	}
	var err error
	if kk == Differential {
		err = c.differential(ctx)
		var esc *escalation
		if errors.As(err, &esc) {
			c.cfg.Log.Info("integrated: differential escalated to full", "reason", esc.why)
			kk, err = Full, c.full(ctx)
		} else if err != nil {
			c.mu.Lock()
			c.st.NeedFull = "the last differential failed" // INT-06
			c.mu.Unlock()
		}
	} else {
		err = c.full(ctx)
	}
	c.finish(ctx, kk, err)
	return err
}

// escalation: a differential that must be a full sync (INT-10).
type escalation struct{ why string }

func (e *escalation) Error() string { return "escalated to a full sync: " + e.why }

func (c *Connector) fullDue() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.st.LastFull.IsZero():
		return "no full sync yet"
	case c.pending != nil:
		return "a full sync to resume"
	case c.st.NeedFull != "":
		return c.st.NeedFull
	case c.cfg.Now().Sub(c.st.LastFull) >= c.cfg.FullEvery:
		return "7 days since the last full sync"
	}
	return ""
}

// finish timestamps a successful sync (INT-11) or records the error, and
// reports both to the UEM's gateway entry (INT-16).
func (c *Connector) finish(ctx context.Context, k Kind, err error) {
	now := c.cfg.Now()
	c.mu.Lock()
	if err == nil {
		c.st.LastSuccess, c.st.LastError, c.errs = now, "", nil
		if k == Full {
			c.st.LastFull, c.st.NeedFull = now, ""
		} else {
			c.st.LastDifferential = now
		}
	} else {
		c.st.LastError = err.Error()
		c.errs = append(c.errs, now.UTC().Format(time.RFC3339)+" "+string(k)+" sync: "+err.Error())
		if len(c.errs) > 20 {
			c.errs = c.errs[len(c.errs)-20:]
		}
	}
	rep := uemapi.IntegratedStatus{State: "idle", LastFull: c.st.LastFull, LastDifferential: c.st.LastDifferential,
		LastSuccess: c.st.LastSuccess, Mailboxes: c.st.Mailboxes, Devices: c.st.Devices, Errors: append([]string(nil), c.errs...)}
	c.mu.Unlock()
	if err != nil {
		c.cfg.Log.Warn("integrated: sync failed", "kind", k, "error", err)
	} else {
		c.cfg.Log.Info("integrated: sync done", "kind", k, "mailboxes", rep.Mailboxes, "devices", rep.Devices)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.CallTimeout)
	defer cancel()
	if rerr := c.cfg.UEM.ReportIntegratedStatus(rctx, rep); rerr != nil {
		c.cfg.Log.Warn("integrated: reporting the sync state to the UEM", "error", rerr)
	}
}

// Run syncs until ctx ends: a full sync at once, then whatever is due,
// and manual resyncs (Resync). A failed sync is retried after RetryDelay,
// resuming where it stopped.
func (c *Connector) Run(ctx context.Context) error {
	next := Full
	for {
		err := c.Sync(ctx, next)
		if ctx.Err() != nil {
			return nil
		}
		wait := c.nextDue()
		if err != nil && !errors.Is(err, ErrSyncRunning) {
			wait = c.cfg.RetryDelay
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case next = <-c.kick:
			t.Stop()
		case <-t.C:
			next = Differential // escalates by itself when a full one is due
		}
	}
}

// nextDue is the time until the next differential or full sync.
func (c *Connector) nextDue() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	d := c.st.LastSuccess.Add(c.settings.SyncInterval()).Sub(now)
	if f := c.st.LastFull.Add(c.cfg.FullEvery).Sub(now); f < d {
		d = f
	}
	return max(d, 0)
}
