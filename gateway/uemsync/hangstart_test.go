package uemsync

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// hangingList is a UEM that accepts the device list request and never
// answers it (a hung process behind a live socket).
type hangingList struct{ *uemsynctest.FakeUEM }

func (hangingList) EachDevicePage(ctx context.Context, _ uemapi.DeviceFilter, _ int, _ func(*uemapi.DevicePage) error) error {
	<-ctx.Done()
	return ctx.Err()
}

// DC-03 with a UEM that hangs at start: Init gives up after one call
// timeout without a page and starts on the persistent list, rather than
// holding the start (and every device) for the HTTP client's minutes.
// Found by gatehouse chaos in subprocess mode (seeds 5046 and 5055: the
// lab gave up on a gateway restarted beside a hanging UEM).
func TestDC03_InitGivesUpOnAHangingUEMAfterOneCallTimeout(t *testing.T) {
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
	if o := l.Access(context.Background(), DeviceRequest{DeviceID: "B0", User: "u"}); !o.Blocked {
		t.Fatalf("B0 not learnt as blocked: %+v", o)
	}
	if _, err := l.Persist(); err != nil {
		t.Fatal(err)
	}

	clk := newClock()
	l2, err := New(Config{UEM: hangingList{u}, Cache: devicecache.New(clk.now), Store: store, FailOpen: true,
		Now: clk.now, PersistInterval: 10 * time.Second, CallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The outer deadline only stops a broken build from hanging the test:
	// the assertion is on why Init stopped, not on how long it took.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := l2.Init(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.FromUEM || !errors.Is(res.UEMError, ErrPageTimeout) {
		t.Fatalf("init %+v: want the persistent list after a page timeout", res)
	}
	if ctx.Err() != nil {
		t.Fatalf("init returned only when the caller's deadline ended: %v", res.UEMError)
	}
	u.SetDown(true)
	if o := l2.Access(context.Background(), DeviceRequest{DeviceID: "B0", User: "u"}); !o.Blocked || o.FailOpen {
		t.Errorf("blocked device after a start beside a hanging UEM: %+v", o)
	}
}
