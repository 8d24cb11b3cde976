package uemsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// InitResult says where the device cache came from at start.
type InitResult struct {
	FromUEM  bool // false: the UEM was unreachable and the persistent list was used (DC-03)
	Loaded   int
	UEMError error
	// Wiped counts the delivered wipes taken from the persistent list
	// before anything else (they are not in Loaded when FromUEM).
	Wiped int
	// Blocked counts the blocked and wipe-pending devices taken from the
	// persistent list likewise (not in Loaded when FromUEM).
	Blocked int
	// NotificationIDs counts the applied notification ids taken from the
	// persistent list, still inside their replay window (replaystore.go).
	NotificationIDs int
}

// Init fills the cache at start: every registered allowed device from the
// UEM with its policy (FLOW-10), or, when the UEM cannot be reached, the
// persistent list with each device's last known state (DC-03).
//
// Delivered wipes come from the persistent list either way: the UEM keeps
// a wiped association as "wiped" until it is removed and does not say
// whether the wipe reached the device, so without them a restarted
// gateway would take the stale record for a pending wipe and wipe the
// device again at its next request (ACT-06, ACT-07). So do blocks and
// pending wipes, which the UEM's allowed list does not carry: a gateway
// restarted with the UEM up must not let a device it knew as blocked in
// by fail-open when the UEM goes away before the first resync (found by
// gatehouse chaos, chaos/testdata/restart-keeps-blocks.yaml).
func (l *Link) Init(ctx context.Context) (InitResult, error) {
	var res InitResult
	if l.cfg.Store != nil {
		res.NotificationIDs = l.loadNotes()
		w, err := l.cfg.Store.LoadWiped(l.cfg.Cache)
		if err != nil {
			return res, fmt.Errorf("uemsync: init: delivered wipes from the persistent list: %w", err)
		}
		res.Wiped = w
		// Known blocks and pending wipes too: the UEM's list below has
		// only the allowed devices (FLOW-10), and the UEM may go away
		// before the first resync tells the gateway about the others.
		// Whatever the UEM lists as allowed replaces them.
		b, err := l.cfg.Store.LoadBlocked(l.cfg.Cache)
		if err != nil {
			return res, fmt.Errorf("uemsync: init: blocked devices from the persistent list: %w", err)
		}
		res.Blocked = b
		// And the policies they refer to: without them a device assigned
		// one would provision the server's policy while the UEM is down.
		if err := l.loadPolicies(); err != nil {
			return res, fmt.Errorf("uemsync: init: policies from the persistent list: %w", err)
		}
	}
	n, err := l.loadPaced(ctx, uemapi.FilterAllowed)
	l.recordContact(err, ByInit)
	if err == nil {
		res.FromUEM, res.Loaded = true, n
		return res, nil
	}
	res.UEMError = err
	if l.cfg.Store == nil {
		return res, nil
	}
	if res.Loaded, err = l.cfg.Store.Load(l.cfg.Cache); err != nil {
		return res, fmt.Errorf("uemsync: init from persistent list: %w", err)
	}
	res.Loaded += res.Wiped + res.Blocked
	l.cfg.Log.Warn("uem unreachable at init; running on the persistent device list", "devices", res.Loaded, "error", res.UEMError)
	return res, nil
}

// ReloadFromUEM merges the UEM's registered allowed devices into the cache
// (DC-06, DC-19 `device-cache from-uem`) and returns how many it loaded.
func (l *Link) ReloadFromUEM(ctx context.Context) (int, error) {
	n, err := l.load(ctx, uemapi.FilterAllowed, nil)
	l.contact(err, ByCLI)
	return n, err
}

// ErrPageTimeout is why Init gave up on a UEM that accepted the request
// but sent no page within CallTimeout: the gateway starts on the
// persistent list (DC-03) instead of waiting for the HTTP client's own
// limit, minutes during which it would serve no one.
var ErrPageTimeout = errors.New("no page of the device list within the call timeout")

// loadPaced is load with a watchdog that each page arrival resets: a
// large list may take long, but every page must come within CallTimeout.
func (l *Link) loadPaced(ctx context.Context, filter uemapi.DeviceFilter) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(l.cfg.CallTimeout, func() { cancel(ErrPageTimeout) })
	defer watchdog.Stop()
	n, err := l.load(ctx, filter, func() { watchdog.Reset(l.cfg.CallTimeout) })
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, ErrPageTimeout) {
		return n, fmt.Errorf("uemsync: device list: %w", cause)
	}
	return n, err
}

// load applies the UEM's device list page by page; paced (may be nil) is
// called as each page arrives.
func (l *Link) load(ctx context.Context, filter uemapi.DeviceFilter, paced func()) (int, error) {
	n := 0
	err := l.cfg.UEM.EachDevicePage(ctx, filter, l.cfg.PageSize, func(p *uemapi.DevicePage) error {
		if err := ctx.Err(); err != nil {
			return err // stopped: a page that arrives late changes nothing
		}
		if paced != nil {
			paced()
		}
		l.applyPage(p, func(devicecache.Key) { n++ })
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("uemsync: device list: %w", err)
	}
	return n, nil
}

// applyPage applies one page of the UEM's device list and calls each with
// the key of every association it applied. An association whose device id
// or user cannot be a cache key (control characters, empty) is skipped
// and logged, once per page.
func (l *Link) applyPage(p *uemapi.DevicePage, each func(devicecache.Key)) {
	for _, pol := range p.Policies {
		l.putPolicy(pol)
	}
	skipped, firstErr := 0, error(nil)
	for _, it := range p.Items {
		if !it.State.Valid() || it.EASDeviceID == "" {
			continue
		}
		key, err := deviceKey(it.EASDeviceID, it.User)
		if err != nil {
			if skipped++; firstErr == nil {
				firstErr = err
			}
			continue
		}
		var pol *uemapi.ActiveSyncPolicy
		if it.PolicyID != "" {
			pol, _ = l.cfg.Policies.Get(it.PolicyID)
		}
		l.applyDecision(key, it.State, it.Behavior, pol, it.RedirectURL)
		each(key)
	}
	if skipped > 0 {
		l.cfg.Log.Warn("uem listed devices with an invalid identity; not cached", "skipped", skipped, "error", firstErr)
	}
}

// ResyncResult counts what a resync changed (FLOW-13).
type ResyncResult struct {
	Listed   int // associations the UEM listed
	Removed  int // cached validated entries the UEM no longer has
	Resolved int // fail-open entries reported and decided
}

// Resync brings every ActiveSync entry up to the UEM's state: states and
// policies of listed associations are applied, validated entries the UEM
// no longer lists are dropped (their next access is a first access), and
// devices let in by fail-open are reported and decided (FLOW-05, FLOW-13).
// It repairs lost notifications.
//
// Only an entry that was cached and validated before the list was asked
// for, and has not changed since, may be dropped: a device reported while
// the list is fetched (a first access, a notification) is not on it, and
// is not one the UEM removed.
func (l *Link) Resync(ctx context.Context) (ResyncResult, error) {
	var res ResyncResult
	before := l.cfg.Cache.Snapshot(func(e devicecache.Entry) bool { return e.ActiveSync() && e.Validated })
	listed := make(map[devicecache.Key]struct{})
	err := l.cfg.UEM.EachDevicePage(ctx, uemapi.FilterAll, l.cfg.PageSize, func(p *uemapi.DevicePage) error {
		l.applyPage(p, func(k devicecache.Key) { listed[k] = struct{}{} })
		return nil
	})
	l.contact(err, ByPeriodicCheck)
	if err != nil {
		return res, fmt.Errorf("uemsync: resync: %w", err)
	}
	res.Listed = len(listed)
	res.Removed = l.cfg.Cache.DeleteUnchanged(before, func(k devicecache.Key) bool {
		_, ok := listed[k]
		return !ok
	})
	var unvalidated []devicecache.Entry
	l.cfg.Cache.Range(func(e devicecache.Entry) bool {
		if _, ok := listed[e.Key]; !ok && e.ActiveSync() && !e.Validated {
			unvalidated = append(unvalidated, e)
		}
		return true
	})
	res.Resolved = l.resolveUnvalidated(ctx, unvalidated)
	l.retryWipeAcks(ctx)
	return res, nil
}

// resolveUnvalidated reports devices let in by fail-open and applies the
// UEM's decision; it stops at the first failure that is not about the
// one device (the UEM went away again, or refuses the gateway).
func (l *Link) resolveUnvalidated(ctx context.Context, entries []devicecache.Entry) int {
	n := 0
	for _, e := range entries {
		if ctx.Err() != nil {
			return n
		}
		cctx, cancel := l.callCtx(ctx)
		d, err := l.cfg.UEM.ReportDevice(cctx, uemapi.DeviceReport{EASDeviceID: e.DeviceID, User: e.User, ProtocolVersion: e.ProtocolVersion})
		cancel()
		if err != nil {
			if unreachable(err) || refused(err) || ctx.Err() != nil {
				return n
			}
			continue
		}
		l.applyDecision(e.Key, d.State, d.Behavior, d.Policy, e.RedirectURL)
		n++
	}
	return n
}

func (l *Link) unvalidatedEntries() []devicecache.Entry {
	var out []devicecache.Entry
	l.cfg.Cache.Range(func(e devicecache.Entry) bool {
		if e.ActiveSync() && !e.Validated {
			out = append(out, e)
		}
		return true
	})
	return out
}

func (l *Link) retryWipeAcks(ctx context.Context) {
	l.acking.Lock()
	defer l.acking.Unlock()
	l.mu.Lock()
	acks := l.pendingAcks
	l.pendingAcks = nil
	l.mu.Unlock()
	for i, a := range acks {
		if ctx.Err() != nil {
			l.mu.Lock()
			l.pendingAcks = append(l.pendingAcks, acks[i:]...)
			l.mu.Unlock()
			return
		}
		cctx, cancel := l.callCtx(ctx)
		err := l.cfg.UEM.AckWipe(cctx, a)
		cancel()
		if err != nil && (unreachable(err) || refused(err) || ctx.Err() != nil) {
			// Kept for later; only an answer about this acknowledgement
			// (e.g. the association is gone) drops it.
			l.mu.Lock()
			l.pendingAcks = append(l.pendingAcks, acks[i:]...)
			l.mu.Unlock()
			return
		}
	}
}

// Check runs one connectivity check (FO-06). When the UEM has just come
// back it reloads the allowed list and resolves fail-open devices (DC-06).
func (l *Link) Check(ctx context.Context, by string) error {
	cctx, cancel := l.callCtx(ctx)
	_, err := l.cfg.UEM.Connectivity(cctx)
	cancel()
	if l.recordContact(err, by) {
		l.afterReconnect(ctx)
	}
	return err
}

// contact records the outcome of a UEM call made for another purpose; a
// call that finds the UEM back after an outage starts the reconnect work
// in the background, whoever noticed first (DC-06). The work is the
// link's, not the caller's: it outlives the request that noticed, and
// Stop cancels it and waits for it.
func (l *Link) contact(err error, by string) {
	if l.recordContact(err, by) {
		l.goBackground(l.afterReconnect)
	}
}

// afterReconnect catches up after an outage: the allowed list, the
// devices let in by fail-open, pending wipe acknowledgements, and
// whatever the gateway registered to fetch again (its configuration).
// Once ctx ends it makes no further UEM call.
func (l *Link) afterReconnect(ctx context.Context) {
	if n, err := l.load(ctx, uemapi.FilterAllowed, nil); err != nil {
		l.cfg.Log.Warn("reload after reconnect failed", "error", err)
	} else {
		l.cfg.Log.Info("reloaded device list after reconnect", "devices", n)
	}
	if ctx.Err() != nil {
		return
	}
	l.resolveUnvalidated(ctx, l.unvalidatedEntries())
	l.retryWipeAcks(ctx)
	if l.cfg.OnReconnect != nil && ctx.Err() == nil {
		l.cfg.OnReconnect(ctx)
	}
}

// ReportLastSeen sends the last-seen time of every device seen since the
// previous report (ASA-06), in batches of at most PageSize.
func (l *Link) ReportLastSeen(ctx context.Context) (int, error) {
	l.mu.Lock()
	since := l.lastSeenSent
	l.mu.Unlock()
	now := l.cfg.Now()
	if since.After(now) {
		// The clock went back: what was seen since is older than the
		// last report; report every device seen, once.
		since = time.Time{}
	}
	var batch []uemapi.LastSeen
	l.cfg.Cache.Range(func(e devicecache.Entry) bool {
		if e.ActiveSync() && e.LastSeen.After(since) {
			batch = append(batch, uemapi.LastSeen{EASDeviceID: e.DeviceID, User: e.User, Time: e.LastSeen, RedirectURL: e.RedirectURL})
		}
		return true
	})
	sent := 0
	for len(batch) > 0 {
		n := min(len(batch), l.cfg.PageSize)
		cctx, cancel := l.callCtx(ctx)
		_, err := l.cfg.UEM.ReportLastSeen(cctx, batch[:n])
		cancel()
		if err != nil {
			return sent, fmt.Errorf("uemsync: last seen: %w", err)
		}
		sent += n
		batch = batch[n:]
	}
	l.mu.Lock()
	l.lastSeenSent = now
	l.mu.Unlock()
	return sent, nil
}

// Persist writes the persistent device list now (DC-02) and returns how
// many devices it wrote (DC-17).
func (l *Link) Persist() (int, error) {
	if l.cfg.Store == nil {
		return 0, errors.New("uemsync: no persistent device list configured")
	}
	return l.writer.Save(l.cfg.Cache)
}

// Run drives the periodic work until ctx ends: connectivity checks,
// resyncs, last-seen reports and persistent-list writes, then writes the
// list one last time (DC-02: before shutdown).
func (l *Link) Run(ctx context.Context) error {
	check := time.NewTicker(l.cfg.CheckInterval)
	resync := time.NewTicker(l.cfg.ResyncInterval)
	persist := time.NewTicker(l.cfg.PersistInterval)
	seen := time.NewTicker(l.cfg.LastSeenInterval)
	retry := time.NewTicker(l.retryWriteInterval())
	defer retry.Stop()
	defer check.Stop()
	defer resync.Stop()
	defer persist.Stop()
	defer seen.Stop()
	l.setNextCheck()
	for {
		select {
		case <-ctx.Done():
			l.retryNotes()
			if l.cfg.Store != nil {
				if _, err := l.Persist(); err != nil {
					return fmt.Errorf("uemsync: final write of the device list: %w", err)
				}
			}
			return nil
		case <-check.C:
			_ = l.Check(ctx, ByPeriodicCheck)
			l.setNextCheck()
		case <-resync.C:
			if res, err := l.Resync(ctx); err != nil {
				l.cfg.Log.Warn("periodic resync failed", "error", err)
			} else {
				l.cfg.Log.Info("periodic resync", "listed", res.Listed, "removed", res.Removed, "resolved", res.Resolved)
			}
		case <-persist.C:
			l.pruneStoredNotes()
			if l.cfg.Store != nil {
				if n, err := l.Persist(); err != nil {
					l.writeFailed()
					l.cfg.Log.Error("writing the persistent device list failed", "error", err)
				} else {
					l.cfg.Log.Debug("wrote persistent device list", "devices", n)
				}
			}
		case <-retry.C:
			l.retryWrite()
		case <-seen.C:
			if _, err := l.ReportLastSeen(ctx); err != nil {
				l.cfg.Log.Debug("last-seen report failed", "error", err)
			}
		}
	}
}

func (l *Link) setNextCheck() {
	l.mu.Lock()
	l.status.NextCheck = l.cfg.Now().Add(l.cfg.CheckInterval)
	l.mu.Unlock()
}
