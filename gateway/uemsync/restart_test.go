package uemsync

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// DC-03 with the UEM up at start: the UEM's list has only the allowed
// devices (FLOW-10), so a device the gateway knew as blocked must come
// from the persistent list; else a UEM going away before the first
// resync lets it in by fail-open (found by gatehouse chaos, seed 1005:
// chaos/testdata/restart-keeps-blocks.yaml).
func TestDC03_BlockedDevicesSurviveAStartFromTheUEM(t *testing.T) {
	store, err := devicecache.OpenStore(filepath.Join(t.TempDir(), "devices.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u := uemsynctest.New()
	u.Set("A0", "u", uemapi.StateAllowed, "")
	u.Set("B0", "u", uemapi.StateBlocked, "")
	u.Set("W0", "u", uemapi.StateWiped, "")
	l, _, _ := newLink(t, u, true, store)
	if _, err := l.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"B0", "W0"} {
		if o := l.Access(context.Background(), DeviceRequest{DeviceID: d, User: "u"}); !o.Blocked && o.Entry.State != devicecache.WipePending {
			t.Fatalf("%s not learnt as blocked or wipe-pending: %+v", d, o)
		}
	}
	if _, err := l.Persist(); err != nil {
		t.Fatal(err)
	}

	l2, _, _ := newLink(t, u, true, store) // restart, the UEM up
	res, err := l2.Init(context.Background())
	if err != nil || !res.FromUEM {
		t.Fatalf("init %+v %v", res, err)
	}
	if res.Blocked != 2 {
		t.Errorf("init %+v: want the blocked and the wipe-pending device from the list", res)
	}
	u.SetDown(true) // before any resync
	if o := l2.Access(context.Background(), DeviceRequest{DeviceID: "B0", User: "u"}); !o.Blocked || o.FailOpen {
		t.Errorf("known-blocked device after a start from the UEM, UEM then down: %+v", o)
	}
	if o := l2.Access(context.Background(), DeviceRequest{DeviceID: "W0", User: "u"}); o.FailOpen || o.Entry.State != devicecache.WipePending {
		t.Errorf("wipe-pending device after a start from the UEM, UEM then down: %+v", o)
	}
	if o := l2.Access(context.Background(), DeviceRequest{DeviceID: "N0", User: "u"}); !o.FailOpen {
		t.Errorf("a new device with the UEM down is still let in by fail-open (FO-01): %+v", o)
	}
}

// What the UEM says wins over the list: a device blocked on disk and
// allowed at the UEM since is allowed after a start from the UEM.
func TestStartFromTheUEMOverridesListedBlocks(t *testing.T) {
	store, err := devicecache.OpenStore(filepath.Join(t.TempDir(), "devices.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u := uemsynctest.New()
	u.Set("B0", "u", uemapi.StateBlocked, "")
	l, _, _ := newLink(t, u, true, store)
	if _, err := l.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Access(context.Background(), DeviceRequest{DeviceID: "B0", User: "u"})
	if _, err := l.Persist(); err != nil {
		t.Fatal(err)
	}
	u.Set("B0", "u", uemapi.StateAllowed, "")
	l2, _, _ := newLink(t, u, true, store)
	if _, err := l2.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o := l2.Access(context.Background(), DeviceRequest{DeviceID: "B0", User: "u"}); o.Blocked {
		t.Errorf("the UEM's allow lost to the list's block: %+v", o)
	}
}

// DC-01 and DC-03: the list keeps each device's policy; a gateway started
// with the UEM down still has the policy documents its devices refer to,
// so they provision their assigned policy, not the server's (found by
// gatehouse chaos, seed 300: chaos/testdata/restart-keeps-policies.yaml).
func TestDC03_PoliciesSurviveARestartWithTheUEMDown(t *testing.T) {
	store, err := devicecache.OpenStore(filepath.Join(t.TempDir(), "devices.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u := uemsynctest.New()
	pol := uemapi.NewPolicy("strict")
	pol.ID, pol.Version, pol.PasswordRequired, pol.MinPasswordLength = "p-strict", 3, true, 9
	u.PutPolicy(&pol)
	u.Set("A0", "u", uemapi.StateAllowed, "p-strict")
	l, _, _ := newLink(t, u, true, store)
	if _, err := l.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o := l.Access(context.Background(), DeviceRequest{DeviceID: "A0", User: "u"}); o.Entry.Policy != "p-strict" {
		t.Fatalf("A0 without its policy: %+v", o)
	}
	if _, err := l.Persist(); err != nil {
		t.Fatal(err)
	}

	u.SetDown(true)
	l2, _, _ := newLink(t, u, true, store)
	if res, err := l2.Init(context.Background()); err != nil || res.FromUEM {
		t.Fatalf("init %+v %v", res, err)
	}
	o := l2.Access(context.Background(), DeviceRequest{DeviceID: "A0", User: "u"})
	if o.Entry.Policy != "p-strict" {
		t.Fatalf("A0 after a restart with the UEM down: %+v", o)
	}
	got, ok := l2.Policy("p-strict")
	if !ok || got.MinPasswordLength != 9 || got.Version != 3 {
		t.Errorf("policy after a restart with the UEM down: %+v %v, want version 3, length 9", got, ok)
	}
}
