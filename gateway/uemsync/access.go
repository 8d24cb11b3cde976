package uemsync

import (
	"context"
	"errors"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// DeviceRequest is what the gateway knows about a device when it asks.
type DeviceRequest struct {
	DeviceID, User                     string
	DeviceType, UserAgent, Model, OS   string
	PhoneNumber, ProtocolVersion, Mail string
}

// Outcome is the gateway's decision for one request.
type Outcome struct {
	Entry devicecache.Entry
	// Blocked: answer "blocked" (DEF-08). Either the entry is blocked or
	// wiped, or the device is new, the UEM is unreachable and fail-open
	// is set to Block (then nothing is cached).
	Blocked bool
	// FirstAccess: the device was not in the cache (FLOW-01).
	FirstAccess bool
	// FailOpen: the device is new and the UEM could not be asked; it was
	// let in (or kept out) by the fail-open setting (FLOW-05, FO-01).
	FailOpen bool
}

// NeedsProvision reports whether the device must run Provision before
// anything else: a changed policy (P) or a pending wipe (W) (DEF-09).
func (o Outcome) NeedsProvision() bool {
	return !o.Blocked && (o.Entry.State == devicecache.PolicyPending || o.Entry.State == devicecache.WipePending)
}

// Access decides on one device request. A cached device is decided from
// the cache without asking the UEM (FLOW-04); a new one is reported to the
// UEM first (FLOW-01), or let in by fail-open when it cannot be (FLOW-05).
func (l *Link) Access(ctx context.Context, r DeviceRequest) Outcome {
	key := devicecache.Key{DeviceID: r.DeviceID, User: r.User}
	if e, ok := l.cfg.Cache.Get(key); ok {
		return Outcome{Entry: e, Blocked: e.State == devicecache.Blocked || e.Wiped}
	}
	cctx, cancel := l.callCtx(ctx)
	d, err := l.cfg.UEM.ReportDevice(cctx, uemapi.DeviceReport{
		EASDeviceID: r.DeviceID, User: r.User, Email: r.Mail, DeviceType: r.DeviceType, Model: r.Model,
		OS: r.OS, PhoneNumber: r.PhoneNumber, UserAgent: r.UserAgent, ProtocolVersion: r.ProtocolVersion,
		AccessTime: l.cfg.Now(),
	})
	cancel()
	if err != nil && !unreachable(err) {
		// The UEM answered but refused the report (bad input): do not
		// cache anything, and do not let the device in on our own.
		l.contact(nil, ByRequest)
		l.cfg.Log.Warn("uem refused device report", "device", r.DeviceID, "error", err)
		return Outcome{Entry: devicecache.Entry{Key: key}, Blocked: true, FirstAccess: true}
	}
	l.contact(err, ByRequest)
	if err != nil {
		if !l.FailOpen() {
			return Outcome{Entry: devicecache.Entry{Key: key}, Blocked: true, FirstAccess: true, FailOpen: true}
		}
		// Allowed with the server's own policy (INC-01), not validated:
		// the real state comes with the next resync or reconnect.
		e, _ := l.cfg.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
			if exists {
				return false // another request raced us and has the answer
			}
			e.State, e.Validated, e.ProtocolVersion = devicecache.Allowed, false, r.ProtocolVersion
			return true
		})
		return Outcome{Entry: e, FirstAccess: true, FailOpen: true, Blocked: e.State == devicecache.Blocked}
	}
	e := l.applyDecision(key, d.State, d.Behavior, d.Policy, "")
	return Outcome{Entry: e, FirstAccess: true, Blocked: e.State == devicecache.Blocked || e.Wiped}
}

// unreachable tells a UEM that could not be asked (network error,
// timeout, 5xx, refused credentials) from one that answered "no".
func unreachable(err error) bool {
	var ue *uemapi.Error
	if !errors.As(err, &ue) {
		return true
	}
	s := ue.Code.HTTPStatus()
	return s >= 500 || s == 401 || s == 403 || s == 429
}

// applyDecision stores the UEM's state and policy for key and returns the
// entry. A changed policy for an allowed device moves it to P so that it
// provisions again (DEF-09); a wipe moves it to W until delivered.
func (l *Link) applyDecision(key devicecache.Key, st uemapi.SyncState, b uemapi.PolicyBehavior, pol *uemapi.ActiveSyncPolicy, redirect string) devicecache.Entry {
	if pol != nil {
		l.cfg.Policies.Put(pol)
	} else if b == uemapi.PolicyApplyServer || b == uemapi.PolicyRemoveServer {
		l.SetDefaultBehavior(b)
	}
	policyID := ""
	if b == uemapi.PolicyAssigned && pol != nil {
		policyID = pol.ID
	}
	var before devicecache.Entry
	e, _ := l.cfg.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
		before = *e
		applyState(e, exists, st, policyID, versionOf(pol))
		e.RedirectURL = redirect
		return true
	})
	l.journal(before, e)
	return e
}

// journal writes a newly blocked, wipe-pending or wiped entry to disk at
// once, so a crash before the next full save cannot lose it: a device the
// UEM blocked must stay blocked after a restart with the UEM down.
func (l *Link) journal(before, after devicecache.Entry) {
	if l.cfg.Store == nil {
		return
	}
	guarded := func(e devicecache.Entry) bool {
		return e.Validated && (e.State == devicecache.Blocked || e.State == devicecache.WipePending || e.Wiped)
	}
	if !guarded(after) || (guarded(before) && before.State == after.State && before.Wiped == after.Wiped) {
		return
	}
	if err := l.cfg.Store.Journal(after); err != nil {
		l.cfg.Log.Error("writing a blocked device to disk failed", "device", after.DeviceID, "error", err)
	}
}

// applyState is the state table of the cache entry for a UEM state.
func applyState(e *devicecache.Entry, exists bool, st uemapi.SyncState, policyID, policyVersion string) {
	policyChanged := e.Policy != policyID || e.PolicyVersion != policyVersion
	wasValidated := e.Validated
	e.Validated, e.Policy, e.PolicyVersion = true, policyID, policyVersion
	switch {
	case e.Wiped:
		// A wiped device stays blocked until the association is removed
		// (ACT-06); Remove arrives as a purge, not as a state.
		e.State = devicecache.Blocked
	case st == uemapi.StateWiped:
		e.State = devicecache.WipePending
	case st == uemapi.StateBlocked:
		e.State = devicecache.Blocked
	case !exists:
		e.State = devicecache.Allowed
	case e.State == devicecache.PolicyPending:
		// Still waiting for the device to provision.
	case !wasValidated && (policyID != ""):
		// Let in by fail-open with the server's policy: push the real
		// one now (FLOW-05 step 3).
		e.State = devicecache.PolicyPending
	case wasValidated && policyChanged && e.State == devicecache.Allowed:
		e.State = devicecache.PolicyPending
	default:
		e.State = devicecache.Allowed
	}
}

// Provisioned records that the device acknowledged its policy: P becomes A.
func (l *Link) Provisioned(key devicecache.Key) {
	l.cfg.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
		if !exists || e.State != devicecache.PolicyPending {
			return false
		}
		e.State = devicecache.Allowed
		return true
	})
}

// WipeDelivered records that the device acknowledged a remote wipe: the
// entry stays blocked as wiped (ACT-06), and the UEM is told; an
// acknowledgement the UEM cannot take now is retried later.
func (l *Link) WipeDelivered(ctx context.Context, key devicecache.Key) {
	var before devicecache.Entry
	after, changed := l.cfg.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
		if !exists {
			return false
		}
		before = *e
		e.State, e.Wiped = devicecache.Blocked, true
		return true
	})
	if changed {
		l.journal(before, after)
	}
	ack := uemapi.WipeAck{EASDeviceID: key.DeviceID, User: key.User, Time: l.cfg.Now()}
	cctx, cancel := l.callCtx(ctx)
	err := l.cfg.UEM.AckWipe(cctx, ack)
	cancel()
	l.contact(err, ByRequest)
	if err != nil {
		l.mu.Lock()
		l.pendingAcks = append(l.pendingAcks, ack)
		l.mu.Unlock()
	}
}
