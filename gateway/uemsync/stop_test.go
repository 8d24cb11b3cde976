package uemsync

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// holdingUEM is the fake UEM whose device list, once hold is set, waits
// for its caller to give up; it counts the calls made with a context
// already ended (work that should have stopped).
type holdingUEM struct {
	*uemsynctest.FakeUEM
	hold    atomic.Bool
	entered chan struct{} // closed when a held list call starts
	left    chan struct{} // closed when it returns
	once    sync.Once
	late    atomic.Int32 // calls made with an ended context
}

func newHoldingUEM() *holdingUEM {
	return &holdingUEM{FakeUEM: uemsynctest.New(), entered: make(chan struct{}), left: make(chan struct{})}
}

func (h *holdingUEM) checkLate(ctx context.Context) {
	if ctx.Err() != nil {
		h.late.Add(1)
	}
}

func (h *holdingUEM) EachDevicePage(ctx context.Context, f uemapi.DeviceFilter, limit int, fn func(*uemapi.DevicePage) error) error {
	h.checkLate(ctx)
	if h.hold.Load() {
		first := false
		h.once.Do(func() { first = true })
		if first {
			close(h.entered)
			<-ctx.Done()
			close(h.left)
			return ctx.Err()
		}
	}
	return h.FakeUEM.EachDevicePage(ctx, f, limit, fn)
}

func (h *holdingUEM) ReportDevice(ctx context.Context, r uemapi.DeviceReport) (*uemapi.Decision, error) {
	h.checkLate(ctx)
	return h.FakeUEM.ReportDevice(ctx, r)
}

func (h *holdingUEM) AckWipe(ctx context.Context, a uemapi.WipeAck) error {
	h.checkLate(ctx)
	return h.FakeUEM.AckWipe(ctx, a)
}

// The reconnect work a device request sets off belongs to the link: Stop
// cancels it and returns only once it has ended, so that nothing calls
// the UEM or writes the cache after the gateway has shut down.
func TestStopCancelsAndWaitsForTheReconnectWork(t *testing.T) {
	u := newHoldingUEM()
	var hooks atomic.Int32
	l, err := New(Config{UEM: u, Cache: devicecache.New(nil), FailOpen: true, OnReconnect: func(context.Context) { hooks.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u.SetDown(true)
	l.Init(ctx)
	// Let in by fail-open: the reconnect work would report it.
	if o := l.Access(ctx, DeviceRequest{DeviceID: "FAILOPEN", User: "u"}); !o.FailOpen {
		t.Fatalf("outcome %+v, want fail-open", o)
	}
	u.SetDown(false)
	u.hold.Store(true)
	// This request finds the UEM back and starts the reconnect work,
	// whose device list the fake holds.
	l.Access(ctx, DeviceRequest{DeviceID: "BACK", User: "u"})
	select {
	case <-u.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the reconnect work did not ask for the device list")
	}
	reports := len(u.Reports())

	l.Stop()
	select {
	case <-u.left:
	default:
		t.Fatal("Stop returned while the reconnect work was still running")
	}
	if n := u.late.Load(); n != 0 {
		t.Errorf("%d UEM calls made after the work was cancelled", n)
	}
	if n := len(u.Reports()); n != reports {
		t.Errorf("the stopped work reported %d devices", n-reports)
	}
	if n := hooks.Load(); n != 0 {
		t.Errorf("the reconnect hook ran %d times after Stop", n)
	}
	// Stopped for good: a later reconnect starts nothing.
	u.hold.Store(false)
	u.SetDown(true)
	l.Access(ctx, DeviceRequest{DeviceID: "DOWN", User: "u"})
	u.SetDown(false)
	calls := u.ListCalls()
	l.Access(ctx, DeviceRequest{DeviceID: "BACK2", User: "u"})
	l.Stop() // idempotent, and waits for anything that did start
	if u.ListCalls() != calls {
		t.Error("a stopped link started reconnect work")
	}
}
