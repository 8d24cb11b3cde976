package uemsync

// Notification replay across a restart: the ids still inside their replay
// window are read back from the persistent list (replaystore.go).

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func openStore(t *testing.T, path string) *devicecache.Store {
	t.Helper()
	s, err := devicecache.OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// restartAt starts a new link on the data directory at path, its clock
// at the given time, and runs Init.
func restartAt(t *testing.T, u *uemsynctest.FakeUEM, path string, at time.Time) (*Link, *devicecache.Cache, *devicecache.Store, InitResult) {
	t.Helper()
	store := openStore(t, path)
	t.Cleanup(func() { store.Close() })
	l, c, clk := newLink(t, u, true, store)
	clk.add(at.Sub(clk.now()))
	res, err := l.Init(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l, c, store, res
}

// A captured "allowed" replayed after the UEM blocked the device and the
// gateway restarted, within the replay window, is answered as applied and
// changes nothing; once its timestamp no longer verifies it is refused
// (401), and the stored ids past their window are dropped.
func TestNotificationReplayAfterARestartIsIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devices.db")
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateAllowed, "")
	store := openStore(t, path)
	l, c, clk := newLink(t, u, true, store)
	if _, err := l.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	h := l.NotificationHandler(notifySecret)
	body, _ := json.Marshal(decision("allow-1", "D", uemapi.StateAllowed))
	captured := clk.now()
	if code := serve(h, signedBody(body, captured)); code != http.StatusNoContent {
		t.Fatalf("allow: HTTP %d", code)
	}
	clk.add(time.Minute)
	u.Set("D", "u", uemapi.StateBlocked, "")
	if code := serve(h, signed(t, decision("block-1", "D", uemapi.StateBlocked), clk.now())); code != http.StatusNoContent {
		t.Fatalf("block: HTTP %d", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatalf("block not applied: %v", st)
	}
	store.Close() // the gateway stops (no final write: a crash would not make one either)

	l2, c2, store2, res := restartAt(t, u, path, captured.Add(4*time.Minute))
	if res.NotificationIDs != 2 {
		t.Errorf("init %+v: want the 2 applied ids back", res)
	}
	h2 := l2.NotificationHandler(notifySecret)
	if code := serve(h2, signedBody(body, captured)); code != http.StatusNoContent {
		t.Fatalf("replay after the restart: HTTP %d, want 204 (answered as already applied)", code)
	}
	if st, _, _ := c2.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatalf("a captured allow replayed after a restart undid the block: %v", st)
	}

	store2.Close()

	// After the window (the replay above refreshed it): the timestamp
	// check refuses it, and a later start finds no id left on disk.
	l3, c3, store3, res := restartAt(t, u, path, captured.Add(4*time.Minute+replayWindow+2*time.Minute))
	if res.NotificationIDs != 0 {
		t.Errorf("init %+v: ids past their window were loaded", res)
	}
	if code := serve(l3.NotificationHandler(notifySecret), signedBody(body, captured)); code != http.StatusUnauthorized {
		t.Fatalf("replay after the window: HTTP %d, want 401 (stale timestamp)", code)
	}
	if st, _, _ := c3.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatalf("a stale replay changed the device: %v", st)
	}
	if n, _ := store3.Notifications(time.Time{}, func(string, time.Time) {}); n != 0 || countStored(t, store3) != 0 {
		t.Errorf("ids past their window still stored: %d (malformed %d)", countStored(t, store3), n)
	}
}

func countStored(t *testing.T, s *devicecache.Store) int {
	t.Helper()
	n := 0
	if _, err := s.Notifications(time.Time{}, func(string, time.Time) { n++ }); err != nil {
		t.Fatal(err)
	}
	return n
}

// An old data directory (no notifications bucket) and one whose bucket
// is corrupt both load; the well-formed ids of a corrupt bucket are kept.
func TestReplayMemoryLoadsFromAnOldOrCorruptStore(t *testing.T) {
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateBlocked, "")
	now := newClock().now()

	old := filepath.Join(t.TempDir(), "devices.db")
	s := openStore(t, old)
	l, _, _ := newLink(t, u, true, s)
	l.Access(context.Background(), DeviceRequest{DeviceID: "D", User: "u"})
	if _, err := l.Persist(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, _, _, res := restartAt(t, u, old, now); res.NotificationIDs != 0 || res.Blocked != 1 {
		t.Errorf("old data directory: init %+v", res)
	}

	corrupt := filepath.Join(t.TempDir(), "devices.db")
	s = openStore(t, corrupt)
	if err := s.RememberNotifications(map[string]time.Time{"good": now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(corrupt, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("notifications"))
		if err := b.Put([]byte("short"), []byte{1, 2, 3}); err != nil {
			return err
		}
		_, err := b.CreateBucket([]byte("nested"))
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	l2, _, store2, res := restartAt(t, u, corrupt, now)
	if res.NotificationIDs != 1 {
		t.Errorf("corrupt bucket: init %+v, want the one good id", res)
	}
	if dup, _, _ := l2.notes.begin("good", now, 10); !dup {
		t.Error("the good id of a corrupt bucket was not remembered")
	}
	if bad, err := store2.Notifications(now, func(string, time.Time) {}); err != nil || bad != 0 {
		t.Errorf("malformed records not pruned at init: %d %v", bad, err)
	}
}

func (w *failingWriter) RememberNotifications(ids map[string]time.Time) error {
	if w.fail.Load() {
		return errNoSpace
	}
	return w.Store.RememberNotifications(ids)
}

// A notification applied while its id cannot be written keeps its
// effect, and its replay is still caught in memory; the id is written by
// the next write retry, so a replay after a later restart is caught too.
func TestNotificationIDWrittenAfterAFailedWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devices.db")
	u := uemsynctest.New()
	u.Set("D", "u", uemapi.StateBlocked, "")
	store := openStore(t, path)
	l, c, clk := newLink(t, u, true, store)
	w := &failingWriter{Store: store}
	l.writer = w
	h := l.NotificationHandler(notifySecret)
	w.fail.Store(true)
	body, _ := json.Marshal(decision("block-1", "D", uemapi.StateBlocked))
	captured := clk.now()
	if code := serve(h, signedBody(body, captured)); code != http.StatusNoContent {
		t.Fatalf("block with the disk full: HTTP %d, want 204 (applied)", code)
	}
	if st, _, _ := c.State(key("D", "u")); st != devicecache.Blocked {
		t.Fatalf("block not applied while the disk was full: %v", st)
	}
	if dup, _, _ := l.notes.begin("block-1", clk.now(), 10); !dup {
		t.Fatal("the id was not remembered in memory")
	}
	if countStored(t, store) != 0 || !l.notesDue.Load() {
		t.Fatal("a failed write was not marked for retry")
	}
	w.fail.Store(false)
	l.retryWrite()
	if countStored(t, store) != 1 || l.notesDue.Load() {
		t.Fatalf("the retry did not write the id (%d stored)", countStored(t, store))
	}
	store.Close()
	_, _, _, res := restartAt(t, u, path, captured.Add(time.Minute))
	if res.NotificationIDs != 1 {
		t.Errorf("init %+v: want the id written by the retry", res)
	}
}

// A redelivery that moves the stored window end rewrites the stored copy,
// so the window on disk never ends before the one in memory.
func TestNotificationRedeliveryExtendsTheStoredWindow(t *testing.T) {
	store := openStore(t, filepath.Join(t.TempDir(), "devices.db"))
	defer store.Close()
	l, _, clk := newLink(t, uemsynctest.New(), true, store)
	h := l.NotificationHandler(notifySecret)
	body, _ := json.Marshal(decision("n1", "D", uemapi.StateAllowed))
	stored := func() (until time.Time) {
		if _, err := store.Notifications(time.Time{}, func(_ string, u time.Time) { until = u }); err != nil {
			t.Fatal(err)
		}
		return until
	}
	for _, step := range []struct {
		after time.Duration
		want  time.Duration // stored window end, from the start
	}{{0, replayWindow + 2*storeSlack}, {storeSlack / 2, replayWindow + 2*storeSlack}, {storeSlack, replayWindow + 3*storeSlack}} {
		clk.add(step.after)
		if code := serve(h, signedBody(body, clk.now())); code != http.StatusNoContent {
			t.Fatalf("HTTP %d", code)
		}
		if got, want := stored(), newClock().now().Add(step.want); !got.Equal(want) {
			t.Errorf("after %v: stored window ends %v, want %v", step.after, got, want)
		}
	}
}
