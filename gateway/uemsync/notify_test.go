package uemsync

// Notification replay and delivery (issue 18): ids are remembered for the
// whole timestamp window, bounded by a cap that refuses rather than
// forgets; an id is recorded only once its notification was applied.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

var notifySecret = []byte("notify-secret-for-tests-0123")

// signed is a notification request as the UEM sends it at ts.
func signed(t *testing.T, n uemapi.Notification, ts time.Time) *http.Request {
	t.Helper()
	body, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return signedBody(body, ts)
}

func signedBody(body []byte, ts time.Time) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/uem/v1/notifications", bytes.NewReader(body))
	req.Header.Set(uemapi.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(uemapi.HeaderSignature, uemapi.Sign(notifySecret, ts.Unix(), body))
	return req
}

func serve(h http.Handler, req *http.Request) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func decision(id, dev string, st uemapi.SyncState) uemapi.Notification {
	return uemapi.Notification{ID: id, Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: dev, User: "u", State: st}}
}

// A captured "allowed" replayed after the UEM blocked the device, with
// thousands of other notifications in between (more than the 4,096 ids
// once remembered), inside its timestamp window, changes nothing.
func TestNotificationReplayAfterManyOthersIsIgnored(t *testing.T) {
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateAllowed, "")
	l, c, clk := newLink(t, u, true, nil)
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	h := l.NotificationHandler(notifySecret)

	body, _ := json.Marshal(decision("allow-1", "D", uemapi.StateAllowed))
	captured := clk.now()
	if code := serve(h, signedBody(body, captured)); code != http.StatusNoContent {
		t.Fatalf("allow: HTTP %d", code)
	}
	for i := range 5000 {
		if code := serve(h, signed(t, decision("other-"+strconv.Itoa(i), "X"+strconv.Itoa(i%50), uemapi.StateAllowed), clk.now())); code != http.StatusNoContent {
			t.Fatalf("notification %d: HTTP %d", i, code)
		}
	}
	clk.add(2 * time.Minute)
	if code := serve(h, signed(t, decision("block-1", "D", uemapi.StateBlocked), clk.now())); code != http.StatusNoContent {
		t.Fatalf("block: HTTP %d", code)
	}
	clk.add(2 * time.Minute) // the captured request's timestamp still verifies
	if code := serve(h, signedBody(body, captured)); code != http.StatusNoContent {
		t.Fatalf("replay: HTTP %d, want 204 (answered as already applied)", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatalf("a replayed allow undid the block: %v", st)
	}
}

// Ids are forgotten once no request carrying them can verify any more
// (two skews after they were last seen), so memory follows the rate of
// notifications, not their count.
func TestNotificationIDsExpireWithTheirWindow(t *testing.T) {
	l, _, clk := newLink(t, uemsynctest.New(), true, nil)
	h := l.NotificationHandler(notifySecret)
	for i := range 100 {
		if code := serve(h, signed(t, decision("n-"+strconv.Itoa(i), "D", uemapi.StateAllowed), clk.now())); code != http.StatusNoContent {
			t.Fatalf("HTTP %d", code)
		}
	}
	if n := l.notes.size(); n != 100 {
		t.Fatalf("%d ids remembered, want 100", n)
	}
	clk.add(replayWindow + time.Second)
	if code := serve(h, signed(t, decision("late", "D", uemapi.StateAllowed), clk.now())); code != http.StatusNoContent {
		t.Fatalf("HTTP %d", code)
	}
	if n := l.notes.size(); n != 1 {
		t.Fatalf("%d ids remembered after the window, want 1", n)
	}
}

// When the memory is full, a new notification is refused with 503 (the
// UEM retries later) rather than an old id being forgotten; once ids
// expire, notifications are accepted again. Redeliveries of remembered
// ids are still answered.
func TestNotificationMemoryFullRefusesWith503(t *testing.T) {
	clk := newClock()
	c := devicecache.New(clk.now)
	l, err := New(Config{UEM: uemsynctest.New(), Cache: c, FailOpen: true, Now: clk.now, MaxNotificationIDs: 3})
	if err != nil {
		t.Fatal(err)
	}
	h := l.NotificationHandler(notifySecret)
	for i := range 3 {
		if code := serve(h, signed(t, decision("n-"+strconv.Itoa(i), "D", uemapi.StateAllowed), clk.now())); code != http.StatusNoContent {
			t.Fatalf("notification %d: HTTP %d", i, code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signed(t, decision("n-3", "D", uemapi.StateBlocked), clk.now()))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("fourth notification: HTTP %d, want 503 with Retry-After", rec.Code)
	}
	if st, _, _ := c.State(key("D", "u")); st == devicecache.Blocked {
		t.Fatal("a refused notification was applied")
	}
	if code := serve(h, signed(t, decision("n-0", "D", uemapi.StateAllowed), clk.now())); code != http.StatusNoContent {
		t.Fatalf("redelivery of a remembered id: HTTP %d", code)
	}
	clk.add(replayWindow + time.Second)
	if code := serve(h, signed(t, decision("n-3", "D", uemapi.StateBlocked), clk.now())); code != http.StatusNoContent {
		t.Fatalf("after the window: HTTP %d", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatalf("retried notification not applied: %v", st)
	}
}

// A notification that could not be applied (422) is not remembered: the
// UEM's retry with the same id is applied.
func TestNotificationRetryAfterFailureIsApplied(t *testing.T) {
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateAllowed, "")
	l, c, clk := newLink(t, u, true, nil)
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	h := l.NotificationHandler(notifySecret)
	broken := uemapi.Notification{ID: "b-1", Type: uemapi.NotifyDeviceState} // no device: cannot be applied
	if code := serve(h, signed(t, broken, clk.now())); code != http.StatusUnprocessableEntity {
		t.Fatalf("broken notification: HTTP %d, want 422", code)
	}
	if code := serve(h, signed(t, decision("b-1", "D", uemapi.StateBlocked), clk.now())); code != http.StatusNoContent {
		t.Fatalf("retry: HTTP %d", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatalf("the retry after a failure was not applied: %v", st)
	}
	if code := serve(h, signed(t, decision("b-1", "D", uemapi.StateAllowed), clk.now())); code != http.StatusNoContent {
		t.Fatalf("redelivery: HTTP %d", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatal("an applied id was applied again")
	}
}

// The same id arriving while it is being applied is answered 409 (the
// UEM retries), never applied twice at once.
func TestNotificationSameIDInFlightIs409(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var calls sync.WaitGroup
	clk := newClock()
	l, err := New(Config{UEM: uemsynctest.New(), Cache: devicecache.New(clk.now), FailOpen: true, Now: clk.now,
		OnConfigChange: func(int64) error { close(entered); <-release; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	h := l.NotificationHandler(notifySecret)
	n := uemapi.Notification{ID: "c-1", Type: uemapi.NotifyConfig, Config: &uemapi.ConfigChange{Version: 2}}
	first := make(chan int, 1)
	calls.Add(1)
	go func() { defer calls.Done(); first <- serve(h, signed(t, n, clk.now())) }()
	<-entered
	if code := serve(h, signed(t, n, clk.now())); code != http.StatusConflict {
		t.Fatalf("same id in flight: HTTP %d, want 409", code)
	}
	close(release)
	calls.Wait()
	if code := <-first; code != http.StatusNoContent {
		t.Fatalf("first delivery: HTTP %d", code)
	}
	if code := serve(h, signed(t, n, clk.now())); code != http.StatusNoContent {
		t.Fatalf("redelivery after it was applied: HTTP %d", code)
	}
}

// The receiver answers an oversize body 413, bad headers 401, and a
// notification with an unknown field 400, applying none of them.
func TestNotificationHandlerRefusals(t *testing.T) {
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateAllowed, "")
	l, c, clk := newLink(t, u, true, nil)
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	h := l.NotificationHandler(notifySecret)
	big := signedBody(bytes.Repeat([]byte(" "), uemapi.MaxNotificationBody+1), clk.now())
	if code := serve(h, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize: HTTP %d, want 413", code)
	}
	unsigned := signed(t, decision("x-1", "D", uemapi.StateBlocked), clk.now())
	unsigned.Header.Del(uemapi.HeaderSignature)
	if code := serve(h, unsigned); code != http.StatusUnauthorized {
		t.Errorf("unsigned: HTTP %d, want 401", code)
	}
	typo := []byte(`{"id":"x-2","type":"device.state","device":{"eas_device_id":"D","user":"u","state":"blocked","polcy":"p"}}`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signedBody(typo, clk.now()))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "polcy") {
		t.Errorf("unknown field: HTTP %d %s, want 400 naming it", rec.Code, rec.Body)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Allowed {
		t.Fatalf("a refused notification was applied: %v", st)
	}
	// Without a secret nothing is accepted, even a request "signed" with
	// the empty key.
	empty := l.NotificationHandler(nil)
	body, _ := json.Marshal(decision("x-3", "D", uemapi.StateBlocked))
	req := httptest.NewRequest(http.MethodPost, "/uem/v1/notifications", bytes.NewReader(body))
	req.Header.Set(uemapi.HeaderTimestamp, strconv.FormatInt(clk.now().Unix(), 10))
	req.Header.Set(uemapi.HeaderSignature, uemapi.Sign(nil, clk.now().Unix(), body))
	if code := serve(empty, req); code/100 == 2 {
		t.Fatalf("empty secret: HTTP %d", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Allowed {
		t.Fatal("a notification signed with the empty key was applied")
	}
}
