package uemsync

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestFLOW13ResyncKeepsDevicesReportedDuringTheListing(t *testing.T) {
	// A device reported (first access) while the UEM's list is on its way
	// is not on that list: the resync must not take it for a removed one.
	u := uemsynctest.New()
	u.Set("OLD", "u", uemapi.StateAllowed, "")
	u.Set("GONE", "u", uemapi.StateAllowed, "")
	l, c, _ := newLink(t, u, true, nil)
	ctx := context.Background()
	if _, err := l.Init(ctx); err != nil {
		t.Fatal(err)
	}
	u.Remove("GONE", "u") // removed in the UEM, purge lost

	listing, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	u.SetListHook(func() {
		once.Do(func() {
			close(listing) // the page is built, without NEW
			<-release
		})
	})
	type result struct {
		res ResyncResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := l.Resync(ctx)
		done <- result{res, err}
	}()
	<-listing
	if o := l.Access(ctx, DeviceRequest{DeviceID: "NEW", User: "u"}); !o.FirstAccess || o.Blocked || !o.Entry.Validated {
		t.Fatalf("first access during the listing: %+v", o)
	}
	close(release)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if e, ok := c.Get(key("NEW", "u")); !ok || e.State != devicecache.Allowed {
		t.Fatalf("device reported during the listing lost by the resync (present %v, %+v)", ok, r.res)
	}
	if _, ok := c.Get(key("GONE", "u")); ok || r.res.Removed != 1 {
		t.Fatalf("removed association kept (%+v)", r.res)
	}
	if _, ok := c.Get(key("OLD", "u")); !ok {
		t.Fatal("listed device dropped")
	}
	if o := l.Access(ctx, DeviceRequest{DeviceID: "NEW", User: "u"}); o.FirstAccess || len(u.Reports()) != 1 {
		t.Fatalf("NEW reported again after the resync (%d reports)", len(u.Reports()))
	}
}
