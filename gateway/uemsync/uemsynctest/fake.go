// Package uemsynctest provides an in-memory UEM for the gateway's tests.
package uemsynctest

import (
	"context"
	"errors"
	"sync"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/identity"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// FakeUEM is an in-memory stand-in for the UEM contract, for the gateway's
// unit tests; the contract tests of fakes/uem cover the real server.
type FakeUEM struct {
	mu        sync.Mutex
	down      bool
	fail      error // returned by every call while set
	refuse    bool  // answer 400 to reports
	listHook  func()
	states    map[devicecache.Key]uemapi.DeviceEntry
	policies  map[string]*uemapi.ActiveSyncPolicy
	reports   []uemapi.DeviceReport
	acks      []uemapi.WipeAck
	lastSeen  []uemapi.LastSeen
	listCalls int
	behavior  uemapi.PolicyBehavior // for associations without a policy
}

// ErrDown is what calls return while the fake is down.
var ErrDown = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

// key is the fake's index of an association: like a real UEM it finds an
// association whatever the spelling of its user ("CORP\alice", "ALICE").
func key(dev, user string) devicecache.Key {
	if u, err := identity.Normalize(user); err == nil {
		user = u
	}
	return devicecache.Key{DeviceID: dev, User: user}
}

// failure is the error a call returns now, or nil; f.mu is held.
func (f *FakeUEM) failure() error {
	if f.down {
		return ErrDown
	}
	return f.fail
}

// New returns an empty fake UEM.
func New() *FakeUEM {
	return &FakeUEM{states: map[devicecache.Key]uemapi.DeviceEntry{}, policies: map[string]*uemapi.ActiveSyncPolicy{}}
}

// Set records the UEM's state for an association (policyID "" = none).
// The user is listed as spelled here.
func (f *FakeUEM) Set(dev, user string, st uemapi.SyncState, policyID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.defaultBehavior()
	if policyID != "" {
		b = uemapi.PolicyAssigned
	}
	f.states[key(dev, user)] = uemapi.DeviceEntry{EASDeviceID: dev, User: user, State: st, Behavior: b, PolicyID: policyID, Registered: true}
}

// SetDown makes every call fail as if the UEM were unreachable.
func (f *FakeUEM) SetDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }

// SetFailure makes every call fail with err (nil: calls succeed again),
// e.g. an *uemapi.Error with Status 401 for a UEM refusing the gateway.
func (f *FakeUEM) SetFailure(err error) { f.mu.Lock(); f.fail = err; f.mu.Unlock() }

// SetListHook sets a function the device list calls after it has built
// its page and before it hands it over, as a UEM whose answer is still on
// the way; a test blocks in it to act meanwhile. nil removes it.
func (f *FakeUEM) SetListHook(fn func()) { f.mu.Lock(); f.listHook = fn; f.mu.Unlock() }

// SetRefuse makes device reports fail with a 400 error.
func (f *FakeUEM) SetRefuse(r bool) { f.mu.Lock(); f.refuse = r; f.mu.Unlock() }

// PutPolicy adds a policy the fake hands out.
func (f *FakeUEM) PutPolicy(p *uemapi.ActiveSyncPolicy) {
	f.mu.Lock()
	f.policies[p.ID] = p
	f.mu.Unlock()
}

// Remove forgets an association, as the admin action Remove does.
func (f *FakeUEM) Remove(dev, user string) {
	f.mu.Lock()
	delete(f.states, key(dev, user))
	f.mu.Unlock()
}

// Reports returns the device reports received.
func (f *FakeUEM) Reports() []uemapi.DeviceReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uemapi.DeviceReport(nil), f.reports...)
}

// Acks returns the wipe acknowledgements received.
func (f *FakeUEM) Acks() []uemapi.WipeAck {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uemapi.WipeAck(nil), f.acks...)
}

// LastSeen returns the last-seen items received.
func (f *FakeUEM) LastSeen() []uemapi.LastSeen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uemapi.LastSeen(nil), f.lastSeen...)
}

// ListCalls counts device list requests.
func (f *FakeUEM) ListCalls() int { f.mu.Lock(); defer f.mu.Unlock(); return f.listCalls }

func (f *FakeUEM) Connectivity(context.Context) (*uemapi.Connectivity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure(); err != nil {
		return nil, err
	}
	return &uemapi.Connectivity{APIVersion: "v1"}, nil
}

func (f *FakeUEM) ReportDevice(_ context.Context, r uemapi.DeviceReport) (*uemapi.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure(); err != nil {
		return nil, err
	}
	if f.refuse {
		return nil, uemapi.FieldError("eas_device_id", "too long")
	}
	f.reports = append(f.reports, r)
	k := key(r.EASDeviceID, r.User)
	e, ok := f.states[k]
	if !ok {
		e = uemapi.DeviceEntry{EASDeviceID: r.EASDeviceID, User: r.User, State: uemapi.StateAllowed, Behavior: f.defaultBehavior()}
		f.states[k] = e
	}
	return &uemapi.Decision{EASDeviceID: e.EASDeviceID, User: e.User, State: e.State, Behavior: e.Behavior, Policy: f.policies[e.PolicyID], FirstAccess: !ok}, nil
}

func (f *FakeUEM) ReportLastSeen(_ context.Context, items []uemapi.LastSeen) (*uemapi.LastSeenResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure(); err != nil {
		return nil, err
	}
	f.lastSeen = append(f.lastSeen, items...)
	return &uemapi.LastSeenResult{Updated: len(items)}, nil
}

func (f *FakeUEM) AckWipe(_ context.Context, a uemapi.WipeAck) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure(); err != nil {
		return err
	}
	f.acks = append(f.acks, a)
	return nil
}

func (f *FakeUEM) EachDevicePage(_ context.Context, filter uemapi.DeviceFilter, limit int, fn func(*uemapi.DevicePage) error) error {
	f.mu.Lock()
	if err := f.failure(); err != nil {
		f.mu.Unlock()
		return err
	}
	f.listCalls++
	p := &uemapi.DevicePage{Policies: map[string]*uemapi.ActiveSyncPolicy{}}
	for _, e := range f.states {
		if filter == uemapi.FilterAllowed && (e.State != uemapi.StateAllowed || !e.Registered) {
			continue
		}
		p.Items = append(p.Items, e)
		if e.PolicyID != "" {
			p.Policies[e.PolicyID] = f.policies[e.PolicyID]
		}
	}
	hook := f.listHook
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return fn(p)
}

// SetDefaultBehavior sets the Default ActiveSync Policy behaviour the fake
// reports for associations without a policy (DEF-02: apply by default).
func (f *FakeUEM) SetDefaultBehavior(b uemapi.PolicyBehavior) {
	f.mu.Lock()
	f.behavior = b
	f.mu.Unlock()
}

func (f *FakeUEM) defaultBehavior() uemapi.PolicyBehavior {
	if f.behavior == "" {
		return uemapi.PolicyApplyServer
	}
	return f.behavior
}
