package uemsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time            { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)       { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock                     { return &clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }
func key(dev, user string) devicecache.Key { return devicecache.Key{DeviceID: dev, User: user} }

func newLink(t *testing.T, u *uemsynctest.FakeUEM, failOpen bool, store *devicecache.Store) (*Link, *devicecache.Cache, *clock) {
	t.Helper()
	clk := newClock()
	c := devicecache.New(clk.now)
	l, err := New(Config{UEM: u, Cache: c, Store: store, FailOpen: failOpen, Now: clk.now, PersistInterval: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return l, c, clk
}

func TestFirstAccessReportsOnceThenUsesTheCache(t *testing.T) {
	// FLOW-01 (report, cache, decision) and FLOW-04 (next access decided locally).
	u := uemsynctest.New()
	u.PutPolicy(&uemapi.ActiveSyncPolicy{ID: "exec", Name: "Exec", Version: 3})
	u.Set("D1", "alice", uemapi.StateAllowed, "exec")
	u.Set("D2", "bob", uemapi.StateBlocked, "")
	l, c, _ := newLink(t, u, true, nil)
	ctx := context.Background()

	o := l.Access(ctx, DeviceRequest{DeviceID: "D1", User: "alice", ProtocolVersion: "16.1"})
	if !o.FirstAccess || o.Blocked || o.Entry.State != devicecache.Allowed || !o.Entry.Validated || o.Entry.Policy != "exec" || o.Entry.PolicyVersion != "3" {
		t.Fatalf("first access outcome %+v", o)
	}
	o = l.Access(ctx, DeviceRequest{DeviceID: "D1", User: "alice"})
	if o.FirstAccess || len(u.Reports()) != 1 {
		t.Fatalf("second access reported again (%d reports)", len(u.Reports()))
	}
	if o := l.Access(ctx, DeviceRequest{DeviceID: "D2", User: "bob"}); !o.Blocked || o.Entry.State != devicecache.Blocked {
		t.Fatalf("blocked device outcome %+v", o)
	}
	if _, ok := l.cfg.Policies.Get("exec"); !ok || c.Len() != 2 {
		t.Fatalf("policy not kept or cache size %d", c.Len())
	}
}

func TestFailOpenAllowsNewDeviceUntilResync(t *testing.T) {
	// FLOW-05, FO-01, FO-02/INC-01: allowed, not validated, real policy at resync.
	u := uemsynctest.New()
	l, c, _ := newLink(t, u, true, nil)
	ctx := context.Background()
	u.SetDown(true)
	o := l.Access(ctx, DeviceRequest{DeviceID: "NEW", User: "carol"})
	if o.Blocked || !o.FailOpen || o.Entry.Validated || o.Entry.State != devicecache.Allowed {
		t.Fatalf("fail-open outcome %+v", o)
	}
	if st := l.Status(); st.Connected || st.LastChangeBy != ByRequest || st.LastFailure.IsZero() {
		t.Fatalf("status after failure %+v", st)
	}
	// The UEM comes back knowing the device as allowed with an assigned policy.
	u.PutPolicy(&uemapi.ActiveSyncPolicy{ID: "strict", Version: 1})
	u.Set("NEW", "carol", uemapi.StateAllowed, "strict")
	u.SetDown(false)
	res, err := l.Resync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := c.Get(key("NEW", "carol"))
	if !e.Validated || e.State != devicecache.PolicyPending || e.Policy != "strict" {
		t.Fatalf("after resync %+v (%+v); want validated and P so the real policy is pushed", e, res)
	}
}

func TestFailOpenResolvedAsBlocked(t *testing.T) {
	u := uemsynctest.New()
	l, c, _ := newLink(t, u, true, nil)
	u.SetDown(true)
	l.Access(context.Background(), DeviceRequest{DeviceID: "X", User: "eve"})
	u.SetDown(false)
	u.Set("X", "eve", uemapi.StateBlocked, "")
	if err := l.Check(context.Background(), ByPeriodicCheck); err != nil {
		t.Fatal(err)
	}
	// The reconnect (not a resync) resolved it: the UEM knew the device,
	// so it is in the full list; the allowed list does not have it, so
	// the gateway reported it.
	if e, _ := c.Get(key("X", "eve")); e.State != devicecache.Blocked || !e.Validated {
		t.Fatalf("after reconnect %+v, want validated blocked", e)
	}
}

func TestFailClosedBlocksAndCachesNothing(t *testing.T) {
	// FO-01 Block / FO-04 `no sentry emm-fail-open`.
	u := uemsynctest.New()
	l, c, _ := newLink(t, u, false, nil)
	u.SetDown(true)
	o := l.Access(context.Background(), DeviceRequest{DeviceID: "N", User: "u"})
	if !o.Blocked || !o.FailOpen || c.Len() != 0 {
		t.Fatalf("fail-closed outcome %+v, cache %d", o, c.Len())
	}
	// Switching at run time takes effect at once (FO-03).
	l.SetFailOpen(true, ByCLI)
	if o := l.Access(context.Background(), DeviceRequest{DeviceID: "N", User: "u"}); o.Blocked {
		t.Fatalf("after emm-fail-open: %+v", o)
	}
	if st := l.Status(); !st.FailOpen || st.FailOpenChangedBy != ByCLI {
		t.Fatalf("status %+v", st)
	}
}

func TestRefusedReportIsNotFailOpen(t *testing.T) {
	u := uemsynctest.New()
	u.SetRefuse(true)
	l, c, _ := newLink(t, u, true, nil)
	if o := l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"}); !o.Blocked || o.FailOpen || c.Len() != 0 {
		t.Fatalf("a UEM that answered 400 must not trigger fail-open: %+v", o)
	}
}

func TestInitFromUEMAndFromPersistentList(t *testing.T) {
	// FLOW-10 and DC-03: a known-blocked device stays blocked when the UEM is down at start.
	dir := t.TempDir()
	store, err := devicecache.OpenStore(filepath.Join(dir, "devices.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u := uemsynctest.New()
	for i := 0; i < 5; i++ {
		u.Set("A"+strconv.Itoa(i), "u", uemapi.StateAllowed, "")
	}
	u.Set("B0", "u", uemapi.StateBlocked, "")
	l, c, _ := newLink(t, u, true, store)
	res, err := l.Init(context.Background())
	if err != nil || !res.FromUEM || res.Loaded != 5 {
		t.Fatalf("init %+v %v: want the 5 allowed devices (FLOW-10)", res, err)
	}
	l.Access(context.Background(), DeviceRequest{DeviceID: "B0", User: "u"}) // learnt as blocked
	if n, err := l.Persist(); err != nil || n != 6 {
		t.Fatalf("persist %d %v", n, err)
	}
	if st, _, _ := c.State(key("B0", "u")); st != devicecache.Blocked {
		t.Fatal("B0 not blocked")
	}

	u.SetDown(true)
	l2, c2, _ := newLink(t, u, true, store)
	res, err = l2.Init(context.Background())
	if err != nil || res.FromUEM || res.Loaded != 6 || res.UEMError == nil {
		t.Fatalf("init with UEM down %+v %v", res, err)
	}
	if o := l2.Access(context.Background(), DeviceRequest{DeviceID: "B0", User: "u"}); !o.Blocked || o.FailOpen {
		t.Fatalf("known-blocked device after restart with UEM down: %+v", o)
	}
	if c2.Len() != 6 {
		t.Fatalf("cache %d", c2.Len())
	}
}

func TestReconnectReloadsAllowedList(t *testing.T) {
	// DC-06: when the UEM is back, the allowed list is fetched and merged.
	u := uemsynctest.New()
	l, c, clk := newLink(t, u, true, nil)
	u.SetDown(true)
	if _, err := l.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	u.Set("LATE", "u", uemapi.StateAllowed, "")
	u.SetDown(false)
	clk.add(15 * time.Minute)
	if err := l.Check(context.Background(), ByPeriodicCheck); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(key("LATE", "u")); !ok {
		t.Fatal("allowed list not reloaded after reconnect")
	}
	st := l.Status()
	if !st.Connected || st.LastChangeBy != ByPeriodicCheck || !st.LastChange.Equal(clk.now()) || !st.LastSuccess.Equal(clk.now()) {
		t.Fatalf("status %+v (FO-05)", st)
	}
	calls := u.ListCalls()
	if err := l.Check(context.Background(), ByPeriodicCheck); err != nil || u.ListCalls() != calls {
		t.Fatal("a check while connected reloaded the list again")
	}
}

func TestResyncRepairsDroppedNotificationsAndRemovals(t *testing.T) {
	// FLOW-13: state changes whose notification was lost, and removed associations.
	u := uemsynctest.New()
	u.Set("D1", "u", uemapi.StateAllowed, "")
	u.Set("D2", "u", uemapi.StateAllowed, "")
	l, c, _ := newLink(t, u, true, nil)
	ctx := context.Background()
	l.Init(ctx)
	u.Set("D1", "u", uemapi.StateBlocked, "") // notification lost
	u.Remove("D2", "u")                       // removed in the UEM, purge lost
	res, err := l.Resync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, _, _ := c.State(key("D1", "u")); st != devicecache.Blocked {
		t.Fatalf("D1 = %v after resync, want blocked", st)
	}
	if _, ok := c.Get(key("D2", "u")); ok || res.Removed != 1 {
		t.Fatalf("removed association still cached (%+v)", res)
	}
	// FLOW-11: its next access is a first access.
	if o := l.Access(ctx, DeviceRequest{DeviceID: "D2", User: "u"}); !o.FirstAccess {
		t.Fatal("removed device was not a first access")
	}
}

func TestPolicyChangeNeedsProvisionThenAllowed(t *testing.T) {
	// FLOW-09 and DEF-09.
	u := uemsynctest.New()
	u.PutPolicy(&uemapi.ActiveSyncPolicy{ID: "p", Version: 1})
	u.Set("D", "u", uemapi.StateAllowed, "p")
	l, c, _ := newLink(t, u, true, nil)
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	n := &uemapi.Notification{ID: "n1", Type: uemapi.NotifyPolicy, Policy: &uemapi.PolicyChange{
		Policy: uemapi.ActiveSyncPolicy{ID: "p", Version: 2}, Devices: []uemapi.DeviceRef{{EASDeviceID: "D", User: "u"}}}}
	if err := l.Apply(n); err != nil {
		t.Fatal(err)
	}
	o := l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	if !o.NeedsProvision() || o.Entry.PolicyVersion != "2" {
		t.Fatalf("after policy change %+v", o.Entry)
	}
	l.Provisioned(key("D", "u"))
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Allowed {
		t.Fatalf("after provisioning %v", st)
	}
}

func TestWipeLifecycle(t *testing.T) {
	// ACT-05..07: W until delivered, then blocked as wiped; acknowledged to
	// the UEM, retried while it is down.
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateAllowed, "")
	l, c, _ := newLink(t, u, true, nil)
	ctx := context.Background()
	l.Access(ctx, DeviceRequest{DeviceID: "D", User: "u"})
	l.Apply(&uemapi.Notification{ID: "w", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: "D", User: "u", State: uemapi.StateWiped}})
	if o := l.Access(ctx, DeviceRequest{DeviceID: "D", User: "u"}); o.Blocked || !o.NeedsProvision() || o.Entry.State != devicecache.WipePending {
		t.Fatalf("wipe pending outcome %+v", o)
	}
	u.SetDown(true)
	l.WipeDelivered(ctx, key("D", "u"))
	if o := l.Access(ctx, DeviceRequest{DeviceID: "D", User: "u"}); !o.Blocked || !o.Entry.Wiped {
		t.Fatalf("after wipe %+v", o)
	}
	// An "allowed" from the UEM does not undo a wipe; only Remove does.
	l.Apply(&uemapi.Notification{ID: "a", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: "D", User: "u", State: uemapi.StateAllowed}})
	if e, _ := c.Get(key("D", "u")); e.State != devicecache.Blocked || !e.Wiped {
		t.Fatalf("wiped device allowed again: %+v", e)
	}
	if len(u.Acks()) != 0 {
		t.Fatal("ack recorded while down")
	}
	u.SetDown(false)
	u.Set("D", "u", uemapi.StateWiped, "")
	if _, err := l.Resync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(u.Acks()) != 1 || u.Acks()[0].EASDeviceID != "D" {
		t.Fatalf("wipe ack not retried: %+v", u.Acks())
	}
	l.Apply(&uemapi.Notification{ID: "p", Type: uemapi.NotifyPurge, Purge: &uemapi.PurgeNotification{DeviceRef: uemapi.DeviceRef{EASDeviceID: "D", User: "u"}}})
	if _, ok := c.Get(key("D", "u")); ok {
		t.Fatal("purge did not remove the entry (ACT-10/11)")
	}
}

func TestNotificationHandlerVerifiesAndDedupes(t *testing.T) {
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateAllowed, "")
	l, c, clk := newLink(t, u, true, nil)
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	secret := []byte("s3cret-s3cret-s3cret")
	h := l.NotificationHandler(secret)
	send := func(n uemapi.Notification, sign []byte) int {
		body, _ := json.Marshal(n)
		req := httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body))
		ts := clk.now().Unix()
		req.Header.Set(uemapi.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(uemapi.HeaderSignature, uemapi.Sign(sign, ts, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	block := uemapi.Notification{ID: "b1", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: "D", User: "u", State: uemapi.StateBlocked}}
	if code := send(block, []byte("wrong")); code != http.StatusUnauthorized {
		t.Fatalf("bad signature answered %d", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Allowed {
		t.Fatal("unverified notification was applied")
	}
	if code := send(block, secret); code != http.StatusNoContent {
		t.Fatalf("good notification answered %d", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatal("notification not applied at once")
	}
	// A redelivery of an older notification id must not undo later changes.
	l.Apply(&uemapi.Notification{ID: "a1", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: "D", User: "u", State: uemapi.StateAllowed}})
	send(block, secret)
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Allowed {
		t.Fatal("redelivered notification applied twice")
	}
}

func TestLastSeenReportsOnlyNewTraffic(t *testing.T) {
	u := uemsynctest.New()
	l, c, clk := newLink(t, u, true, nil)
	ctx := context.Background()
	l.Access(ctx, DeviceRequest{DeviceID: "D1", User: "u"})
	l.Access(ctx, DeviceRequest{DeviceID: "D2", User: "u"})
	clk.add(time.Second)
	c.Touch(key("D1", "u"), "14.1")
	n, err := l.ReportLastSeen(ctx)
	if err != nil || n != 1 || u.LastSeen()[0].EASDeviceID != "D1" {
		t.Fatalf("sent %d %v %+v", n, err, u.LastSeen())
	}
	if n, _ := l.ReportLastSeen(ctx); n != 0 {
		t.Fatalf("second report resent %d", n)
	}
}

func TestRunWritesTheListOnShutdown(t *testing.T) {
	// DC-02 (b): before shutdown.
	store, err := devicecache.OpenStore(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u := uemsynctest.New()
	l, _, _ := newLink(t, u, true, store)
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st, err := store.Status(); err != nil || st.Entries != 1 {
		t.Fatalf("store after shutdown %+v %v", st, err)
	}
}

func TestConfigValidation(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("missing UEM accepted")
	}
	if _, err := New(Config{UEM: uemsynctest.New(), Cache: devicecache.New(nil), PersistInterval: time.Second}); err == nil {
		t.Fatal("persist interval below 10 s accepted (DEF-03)")
	}
}

func TestConfigFailureIsAnsweredAndRetried(t *testing.T) {
	// Issue 5: a configuration the gateway cannot apply is reported back
	// (the UEM shows the error on the entry) and a redelivery tries again.
	u := uemsynctest.New()
	calls := 0
	fail := true
	c := devicecache.New(nil)
	l, err := New(Config{UEM: u, Cache: c, FailOpen: true, OnConfigChange: func(int64) error {
		calls++
		if fail {
			return errors.New("server list unreachable")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := &uemapi.Notification{ID: "c1", Type: uemapi.NotifyConfig, Config: &uemapi.ConfigChange{Version: 7}}
	if err := l.Apply(n); err == nil || !strings.Contains(err.Error(), "server list unreachable") {
		t.Fatalf("Apply = %v, want the configuration error", err)
	}
	fail = false
	if err := l.Apply(n); err != nil || calls != 2 {
		t.Fatalf("redelivery: %v after %d calls", err, calls)
	}
	if err := l.Apply(n); err != nil || calls != 2 {
		t.Fatalf("a third delivery of an applied notification ran again (%d calls)", calls)
	}
}

func TestBlocksAreOnDiskBeforeTheNextFullSave(t *testing.T) {
	// A crash between periodic writes must not lose a block (DESIGN: a
	// known-blocked device never becomes allowed because the process died).
	store, err := devicecache.OpenStore(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateAllowed, "")
	l, _, _ := newLink(t, u, true, store)
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	l.Apply(&uemapi.Notification{ID: "b", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: "D", User: "u", State: uemapi.StateBlocked}})
	// No Persist: read what is on disk as a restarted gateway would.
	restarted := devicecache.New(nil)
	if _, err := store.Load(restarted); err != nil {
		t.Fatal(err)
	}
	if st, _, ok := restarted.State(key("D", "u")); !ok || st != devicecache.Blocked {
		t.Fatalf("after a crash the device is %v (present %v), want blocked", st, ok)
	}
}

func TestReconnectCallsTheHook(t *testing.T) {
	// A gateway that started while the UEM was down fetches its
	// configuration when the UEM comes back, not only on a notification.
	u := uemsynctest.New()
	calls := 0
	l, err := New(Config{UEM: u, Cache: devicecache.New(nil), FailOpen: true, OnReconnect: func(context.Context) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	u.SetDown(true)
	l.Init(context.Background())
	u.SetDown(false)
	l.Check(context.Background(), ByPeriodicCheck)
	l.Check(context.Background(), ByPeriodicCheck)
	if calls != 1 {
		t.Fatalf("reconnect hook called %d times, want once", calls)
	}
}
