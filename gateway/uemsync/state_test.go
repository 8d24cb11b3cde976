package uemsync

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// want is the expected outcome of applyState.
type want struct {
	state       devicecache.State
	wiped       bool
	reprovision bool
}

func TestApplyStateTable(t *testing.T) {
	// Every (prior entry, UEM state, policy changed?) combination. The
	// prior entries hold policy "p" version "1"; "changed" means the UEM
	// sends "p" version "2" (a new version; a new id is the same case).
	const (
		A, B, P, W = devicecache.Allowed, devicecache.Blocked, devicecache.PolicyPending, devicecache.WipePending
	)
	allowed, blocked, wiped := uemapi.StateAllowed, uemapi.StateBlocked, uemapi.StateWiped
	priors := []struct {
		name   string
		exists bool
		entry  devicecache.Entry
	}{
		{"absent", false, devicecache.Entry{}},
		{"A", true, devicecache.Entry{State: A, Validated: true, Policy: "p", PolicyVersion: "1"}},
		{"B", true, devicecache.Entry{State: B, Validated: true, Policy: "p", PolicyVersion: "1"}},
		{"B changed while blocked", true, devicecache.Entry{State: B, Validated: true, Policy: "p", PolicyVersion: "1", Reprovision: true}},
		{"P", true, devicecache.Entry{State: P, Validated: true, Policy: "p", PolicyVersion: "1"}},
		{"W", true, devicecache.Entry{State: W, Validated: true, Policy: "p", PolicyVersion: "1"}},
		{"W changed while pending", true, devicecache.Entry{State: W, Validated: true, Policy: "p", PolicyVersion: "1", Reprovision: true}},
		{"wiped", true, devicecache.Entry{State: B, Wiped: true, Validated: true, Policy: "p", PolicyVersion: "1"}},
		// Let in by fail-open: the server's own policy, none recorded;
		// "unchanged" for it is "p" version "1" too, i.e. an assigned
		// policy it has not got.
		{"fail-open", true, devicecache.Entry{State: A}},
	}
	table := map[string]map[uemapi.SyncState][2]want{ // [unchanged, changed]
		"absent": {
			allowed: {{state: A}, {state: A}},
			blocked: {{state: B}, {state: B}},
			wiped:   {{state: W}, {state: W}},
		},
		"A": {
			allowed: {{state: A}, {state: P}},
			blocked: {{state: B}, {state: B, reprovision: true}},
			wiped:   {{state: W}, {state: W, reprovision: true}},
		},
		"B": {
			allowed: {{state: A}, {state: P}}, // issue 18: B → A kept the old policy
			blocked: {{state: B}, {state: B, reprovision: true}},
			wiped:   {{state: W}, {state: W, reprovision: true}},
		},
		"B changed while blocked": {
			allowed: {{state: P}, {state: P}},
			blocked: {{state: B, reprovision: true}, {state: B, reprovision: true}},
			wiped:   {{state: W, reprovision: true}, {state: W, reprovision: true}},
		},
		"P": {
			allowed: {{state: P}, {state: P}},
			blocked: {{state: B, reprovision: true}, {state: B, reprovision: true}},
			wiped:   {{state: W, reprovision: true}, {state: W, reprovision: true}},
		},
		"W": {
			allowed: {{state: A}, {state: P}},
			blocked: {{state: B}, {state: B, reprovision: true}},
			wiped:   {{state: W}, {state: W, reprovision: true}},
		},
		"W changed while pending": {
			allowed: {{state: P}, {state: P}},
			blocked: {{state: B, reprovision: true}, {state: B, reprovision: true}},
			wiped:   {{state: W, reprovision: true}, {state: W, reprovision: true}},
		},
		"wiped": {
			allowed: {{state: B, wiped: true}, {state: B, wiped: true}},
			blocked: {{state: B, wiped: true}, {state: B, wiped: true}},
			wiped:   {{state: B, wiped: true}, {state: B, wiped: true}},
		},
		"fail-open": {
			allowed: {{state: P}, {state: P}},
			blocked: {{state: B, reprovision: true}, {state: B, reprovision: true}},
			wiped:   {{state: W, reprovision: true}, {state: W, reprovision: true}},
		},
	}
	for _, pr := range priors {
		for _, st := range []uemapi.SyncState{allowed, blocked, wiped} {
			for i, version := range []string{"1", "2"} {
				t.Run(fmt.Sprintf("%s/%s/changed=%v", pr.name, st, i == 1), func(t *testing.T) {
					e := pr.entry
					applyState(&e, pr.exists, st, "p", version)
					w := table[pr.name][st][i]
					got := want{e.State, e.Wiped, e.Reprovision}
					if got != w || !e.Validated || e.Policy != "p" || e.PolicyVersion != version {
						t.Fatalf("got %+v (validated %v, policy %s/%s), want %+v", got, e.Validated, e.Policy, e.PolicyVersion, w)
					}
				})
			}
		}
	}
	// A fail-open device the UEM gives no policy keeps the server's: A.
	e := devicecache.Entry{State: A}
	if applyState(&e, true, allowed, "", ""); e.State != A || !e.Validated {
		t.Fatalf("fail-open without an assigned policy: %+v", e)
	}
}

// blockedWithPolicy returns a link whose device D (user u) was allowed with
// policy p version 1, provisioned, then blocked.
func blockedWithPolicy(t *testing.T) (*Link, *devicecache.Cache, *uemsynctest.FakeUEM) {
	t.Helper()
	u := uemsynctest.New()
	u.PutPolicy(&uemapi.ActiveSyncPolicy{ID: "p", Version: 1})
	u.Set("D", "u", uemapi.StateAllowed, "p")
	l, c, _ := newLink(t, u, true, nil)
	if o := l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"}); o.Entry.State != devicecache.Allowed {
		t.Fatalf("first access %+v", o)
	}
	if err := l.Apply(&uemapi.Notification{ID: "block", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{
		EASDeviceID: "D", User: "u", State: uemapi.StateBlocked, Behavior: uemapi.PolicyAssigned, Policy: &uemapi.ActiveSyncPolicy{ID: "p", Version: 1}}}); err != nil {
		t.Fatal(err)
	}
	return l, c, u
}

func TestPolicyChangedDuringABlockIsProvisionedWhenAllowed(t *testing.T) {
	p2 := &uemapi.ActiveSyncPolicy{ID: "p", Version: 2}
	allow := &uemapi.Notification{ID: "allow", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{
		EASDeviceID: "D", User: "u", State: uemapi.StateAllowed, Behavior: uemapi.PolicyAssigned, Policy: p2}}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, l *Link, u *uemsynctest.FakeUEM)
	}{
		{"state notification with the new policy", func(t *testing.T, l *Link, _ *uemsynctest.FakeUEM) {
			if err := l.Apply(allow); err != nil {
				t.Fatal(err)
			}
		}},
		{"policy notification, then state notification", func(t *testing.T, l *Link, _ *uemsynctest.FakeUEM) {
			if err := l.Apply(&uemapi.Notification{ID: "pol", Type: uemapi.NotifyPolicy, Policy: &uemapi.PolicyChange{
				Policy: *p2, Devices: []uemapi.DeviceRef{{EASDeviceID: "D", User: "u"}}}}); err != nil {
				t.Fatal(err)
			}
			if o := l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"}); !o.Blocked {
				t.Fatalf("a policy change unblocked the device: %+v", o)
			}
			if err := l.Apply(allow); err != nil {
				t.Fatal(err)
			}
		}},
		{"policy notification, then resync", func(t *testing.T, l *Link, u *uemsynctest.FakeUEM) {
			if err := l.Apply(&uemapi.Notification{ID: "pol", Type: uemapi.NotifyPolicy, Policy: &uemapi.PolicyChange{
				Policy: *p2, Devices: []uemapi.DeviceRef{{EASDeviceID: "D", User: "u"}}}}); err != nil {
				t.Fatal(err)
			}
			u.PutPolicy(p2)
			u.Set("D", "u", uemapi.StateAllowed, "p") // allow notification lost
			if _, err := l.Resync(context.Background()); err != nil {
				t.Fatal(err)
			}
		}},
		{"resync only", func(t *testing.T, l *Link, u *uemsynctest.FakeUEM) {
			u.PutPolicy(p2)
			u.Set("D", "u", uemapi.StateAllowed, "p")
			if _, err := l.Resync(context.Background()); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, c, u := blockedWithPolicy(t)
			tc.run(t, l, u)
			o := l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
			if o.Blocked || !o.NeedsProvision() || o.Entry.PolicyVersion != "2" {
				t.Fatalf("allowed again after a policy change: %+v; want P with version 2", o.Entry)
			}
			l.Provisioned(key("D", "u"))
			if e, _ := c.Get(key("D", "u")); e.State != devicecache.Allowed || e.Reprovision {
				t.Fatalf("after provisioning %+v", e)
			}
		})
	}
}

func TestAllowedAgainWithTheSamePolicyIsAllowed(t *testing.T) {
	l, _, _ := blockedWithPolicy(t)
	if err := l.Apply(&uemapi.Notification{ID: "allow", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{
		EASDeviceID: "D", User: "u", State: uemapi.StateAllowed, Behavior: uemapi.PolicyAssigned, Policy: &uemapi.ActiveSyncPolicy{ID: "p", Version: 1}}}); err != nil {
		t.Fatal(err)
	}
	if o := l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"}); o.Blocked || o.NeedsProvision() {
		t.Fatalf("%+v: nothing to provision", o.Entry)
	}
}
