package uemsync

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestACT06DeliveredWipeIsNotSentAgainAfterARestart(t *testing.T) {
	// The UEM keeps the association "wiped" until it is removed; a gateway
	// restarted while the UEM is up must not take that for a pending wipe.
	for _, tc := range []struct {
		name    string
		persist bool // a full save after the wipe, or only the journal
	}{{"journal", false}, {"full save", true}} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := devicecache.OpenStore(filepath.Join(t.TempDir(), "d.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			u := uemsynctest.New()
			u.Set("D", "u", uemapi.StateAllowed, "")
			u.Set("OTHER", "u", uemapi.StateAllowed, "")
			l, _, _ := newLink(t, u, true, store)
			ctx := context.Background()
			if _, err := l.Init(ctx); err != nil {
				t.Fatal(err)
			}
			u.Set("D", "u", uemapi.StateWiped, "")
			if _, err := l.Resync(ctx); err != nil {
				t.Fatal(err)
			}
			if o := l.Access(ctx, DeviceRequest{DeviceID: "D", User: "u"}); o.Entry.State != devicecache.WipePending || !o.NeedsProvision() {
				t.Fatalf("wipe not pending: %+v", o)
			}
			l.WipeDelivered(ctx, key("D", "u"))
			if len(u.Acks()) != 1 {
				t.Fatalf("acks %+v", u.Acks())
			}
			if tc.persist {
				if _, err := l.Persist(); err != nil {
					t.Fatal(err)
				}
			}

			// Restart over the same list, the UEM up and still saying "wiped".
			l2, c2, _ := newLink(t, u, true, store)
			res, err := l2.Init(ctx)
			if err != nil || !res.FromUEM || res.Wiped != 1 || res.Loaded != 1 {
				t.Fatalf("init %+v %v", res, err)
			}
			o := l2.Access(ctx, DeviceRequest{DeviceID: "D", User: "u"})
			if !o.Blocked || !o.Entry.Wiped || o.NeedsProvision() || o.FirstAccess {
				t.Fatalf("wiped device after a restart: %+v; want blocked, not wiped again", o)
			}
			if _, err := l2.Resync(ctx); err != nil {
				t.Fatal(err)
			}
			if e, _ := c2.Get(key("D", "u")); e.State != devicecache.Blocked || !e.Wiped {
				t.Fatalf("after a resync: %+v", e)
			}
		})
	}
}
