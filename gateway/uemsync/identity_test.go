package uemsync

import (
	"context"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestResyncMatchesTheUEMsSpellingOfAUser(t *testing.T) {
	// The gateway keys on the authenticated user, normalised ("alice");
	// the UEM lists the association as registered ("ALICE",
	// "CORP\alice", "alice@corp.example"). A resync must find the entry,
	// not drop it and cache a second one.
	u := uemsynctest.New()
	u.Set("D1", "ALICE", uemapi.StateAllowed, "")
	u.Set("D2", `CORP\alice`, uemapi.StateAllowed, "")
	u.Set("D3", "alice@corp.example", uemapi.StateAllowed, "")
	l, c, _ := newLink(t, u, true, nil)
	ctx := context.Background()
	for _, d := range []string{"D1", "D2", "D3"} {
		if o := l.Access(ctx, DeviceRequest{DeviceID: d, User: "alice"}); !o.FirstAccess || o.Blocked {
			t.Fatalf("%s first access %+v", d, o)
		}
	}
	for round := 0; round < 2; round++ {
		res, err := l.Resync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Removed != 0 || c.Len() != 3 {
			t.Fatalf("resync %d: %+v, cache %d; want nothing removed and 3 entries", round, res, c.Len())
		}
	}
	for _, d := range []string{"D1", "D2", "D3"} {
		if o := l.Access(ctx, DeviceRequest{DeviceID: d, User: "alice"}); o.FirstAccess {
			t.Errorf("%s: a first access again after the resync", d)
		}
	}
	if n := len(u.Reports()); n != 3 {
		t.Errorf("UEM saw %d reports, want 3", n)
	}
}

func TestInitNormalisesAndSkipsInvalidIdentities(t *testing.T) {
	u := uemsynctest.New()
	u.Set("D1", "Bob@Corp.Example", uemapi.StateAllowed, "")
	u.Set("EVIL", "bob\x1b[2J", uemapi.StateAllowed, "")
	u.Set("EVIL2", "", uemapi.StateAllowed, "")
	l, c, _ := newLink(t, u, true, nil)
	res, err := l.Init(context.Background())
	if err != nil || res.Loaded != 1 || c.Len() != 1 {
		t.Fatalf("init %+v %v, cache %d: want only the valid association", res, err, c.Len())
	}
	if _, ok := c.Get(key("D1", "bob")); !ok {
		t.Fatal("D1 not cached under the normalised user")
	}
}

func TestNotificationsKeyOnTheNormalisedUser(t *testing.T) {
	u := uemsynctest.New()
	u.Set("D", "alice", uemapi.StateAllowed, "")
	l, c, _ := newLink(t, u, true, nil)
	ctx := context.Background()
	l.Access(ctx, DeviceRequest{DeviceID: "D", User: "alice"})
	if err := l.Apply(&uemapi.Notification{ID: "b", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: "D", User: `CORP\Alice`, State: uemapi.StateBlocked}}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := c.State(key("D", "alice")); st != devicecache.Blocked || c.Len() != 1 {
		t.Fatalf("state %v, cache %d: the block did not reach alice's entry", st, c.Len())
	}
	err := l.Apply(&uemapi.Notification{ID: "x", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: "X", User: "a\nb", State: uemapi.StateAllowed}})
	if err == nil || c.Len() != 1 {
		t.Fatalf("notification with a control character in the user: %v, cache %d", err, c.Len())
	}
	if err := l.Apply(&uemapi.Notification{ID: "p", Type: uemapi.NotifyPurge, Purge: &uemapi.PurgeNotification{DeviceRef: uemapi.DeviceRef{EASDeviceID: "D", User: "ALICE@corp.example"}}}); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 0 {
		t.Fatal("purge spelled differently did not remove the entry")
	}
}
