package uemsync

import (
	"context"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/identity"
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
// UEM first (FLOW-01), or let in by fail-open when the UEM cannot be
// asked (FLOW-05). A UEM that answers but refuses the gateway (401, 403,
// 429) is not an unreachable one: the new device is kept out.
//
// r.User is the authenticated user; it is normalised here too
// (identity.Normalize, a no-op on a normalised name) because it is the
// cache key every UEM listing and notification is matched against.
func (l *Link) Access(ctx context.Context, r DeviceRequest) Outcome {
	user, err := identity.Normalize(r.User)
	if err != nil {
		l.cfg.Log.Warn("device request with an invalid user name kept out", "error", err)
		return Outcome{Entry: devicecache.Entry{Key: devicecache.Key{DeviceID: r.DeviceID}}, Blocked: true, FirstAccess: true}
	}
	key := devicecache.Key{DeviceID: r.DeviceID, User: user}
	if e, ok := l.cfg.Cache.Get(key); ok {
		return Outcome{Entry: e, Blocked: e.State == devicecache.Blocked || e.Wiped}
	}
	cctx, cancel := l.callCtx(ctx)
	d, err := l.cfg.UEM.ReportDevice(cctx, uemapi.DeviceReport{
		EASDeviceID: r.DeviceID, User: user, Email: r.Mail, DeviceType: r.DeviceType, Model: r.Model,
		OS: r.OS, PhoneNumber: r.PhoneNumber, UserAgent: r.UserAgent, ProtocolVersion: r.ProtocolVersion,
		AccessTime: l.cfg.Now(),
	})
	cancel()
	switch uemapi.Classify(err) {
	case uemapi.NoFailure:
		l.contact(nil, ByRequest)
		e := l.applyDecision(key, d.State, d.Behavior, d.Policy, "")
		return Outcome{Entry: e, FirstAccess: true, Blocked: e.State == devicecache.Blocked || e.Wiped}
	case uemapi.Unreachable:
		l.contact(err, ByRequest)
		return l.failOpen(key, r.ProtocolVersion)
	case uemapi.AuthRefused, uemapi.RateLimited:
		// The UEM is up and refuses the gateway: its credentials (401,
		// 403) or its rate (429). Fail-open is for a UEM that cannot be
		// asked (FO-01); letting new devices in here would open the door
		// to every device for as long as the gateway is misconfigured or
		// the UEM sheds load, which anyone able to enrol devices in bulk
		// can provoke. The device is kept out and not cached: its next
		// request asks again. The status shows the reason (contact).
		l.contact(err, ByRequest)
		l.cfg.Log.Warn("uem refused the gateway; new device kept out", "device", r.DeviceID, "error", err)
		return Outcome{Entry: devicecache.Entry{Key: key}, Blocked: true, FirstAccess: true}
	default:
		// The UEM answered but refused the report (bad input): do not
		// cache anything, and do not let the device in on our own.
		l.contact(nil, ByRequest)
		l.cfg.Log.Warn("uem refused device report", "device", r.DeviceID, "error", err)
		return Outcome{Entry: devicecache.Entry{Key: key}, Blocked: true, FirstAccess: true}
	}
}

// failOpen decides on a new device the UEM could not be asked about, by
// the fail-open setting (FLOW-05, FO-01).
func (l *Link) failOpen(key devicecache.Key, protocolVersion string) Outcome {
	if !l.FailOpen() {
		return Outcome{Entry: devicecache.Entry{Key: key}, Blocked: true, FirstAccess: true, FailOpen: true}
	}
	// Allowed with the server's own policy (INC-01), not validated:
	// the real state comes with the next resync or reconnect.
	e, _ := l.cfg.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
		if exists {
			return false // another request raced us and has the answer
		}
		e.State, e.Validated, e.ProtocolVersion = devicecache.Allowed, false, protocolVersion
		return true
	})
	return Outcome{Entry: e, FirstAccess: true, FailOpen: true, Blocked: e.State == devicecache.Blocked || e.Wiped}
}

// unreachable reports whether err means the UEM could not be asked
// (network error, timeout, 5xx), as opposed to a UEM that answered,
// refusing the gateway (401, 403, 429) or the request (other 4xx).
func unreachable(err error) bool { return uemapi.Classify(err) == uemapi.Unreachable }

// refused reports whether the UEM refuses the gateway itself (401, 403,
// 429): every further call would fail the same way for now.
func refused(err error) bool {
	f := uemapi.Classify(err)
	return f == uemapi.AuthRefused || f == uemapi.RateLimited
}

// applyDecision stores the UEM's state and policy for key and returns the
// entry. A changed policy for an allowed device moves it to P so that it
// provisions again (DEF-09); a wipe moves it to W until delivered.
func (l *Link) applyDecision(key devicecache.Key, st uemapi.SyncState, b uemapi.PolicyBehavior, pol *uemapi.ActiveSyncPolicy, redirect string) devicecache.Entry {
	if pol != nil {
		l.putPolicy(pol)
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
	if err := l.writer.Journal(after); err != nil {
		l.writeFailed()
		l.cfg.Log.Error("writing a blocked device to disk failed", "device", after.DeviceID, "error", err)
	}
}

// applyState is the one state table of a cache entry for a UEM decision.
// The first access, the device lists (init, reload, resync) and the
// notifications (state and policy changes) all go through it.
//
// A policy the device has not provisioned is due: the entry was waiting
// for it (P), it changed now (id or version), or it changed while the
// device was kept out (Reprovision). An allowed device with a due policy
// provisions first (P, DEF-09); a blocked or wipe-pending one keeps it due
// until it is allowed again, so that a policy changed during a block is
// still delivered. A device let in by fail-open has no policy recorded
// (it got the server's own, INC-01): an assigned one is due (FLOW-05
// step 3).
//
//	prior       UEM allowed           UEM blocked   UEM wiped
//	absent      A                     B             W
//	A, B, W     P if due, else A      B             W
//	P           P                     B (due kept)  W (due kept)
//	wiped       B (stays wiped, ACT-06: only Remove ends it, as a purge)
func applyState(e *devicecache.Entry, exists bool, st uemapi.SyncState, policyID, policyVersion string) {
	due := exists && (e.State == devicecache.PolicyPending || e.Reprovision ||
		e.Policy != policyID || e.PolicyVersion != policyVersion)
	e.Validated, e.Policy, e.PolicyVersion = true, policyID, policyVersion
	switch {
	case e.Wiped:
		e.State = devicecache.Blocked
	case st == uemapi.StateWiped:
		e.State = devicecache.WipePending
	case st == uemapi.StateBlocked:
		e.State = devicecache.Blocked
	case due:
		e.State = devicecache.PolicyPending
	default:
		e.State = devicecache.Allowed
	}
	e.Reprovision = due && !e.Wiped && (e.State == devicecache.Blocked || e.State == devicecache.WipePending)
}

// Provisioned records that the device acknowledged its policy: P becomes A.
func (l *Link) Provisioned(key devicecache.Key) {
	l.cfg.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
		if !exists || e.State != devicecache.PolicyPending {
			return false
		}
		e.State, e.Reprovision = devicecache.Allowed, false
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
		e.State, e.Wiped, e.Reprovision = devicecache.Blocked, true, false
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
