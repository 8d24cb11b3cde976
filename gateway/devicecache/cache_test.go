package devicecache

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time { return f.t }

func TestStateLegend(t *testing.T) {
	// DC-07: the letters and names the CLI legend prints.
	for s, want := range map[State]string{
		Allowed: "A:Allowed", Blocked: "B:Blocked", PolicyPending: "P:Policy Pending", WipePending: "W:Wipe Pending", State('x'): "?:Unknown",
	} {
		if s.String() != want {
			t.Errorf("%c = %q, want %q", s, s.String(), want)
		}
	}
}

func TestPutGetUpdateDelete(t *testing.T) {
	clk := &fakeClock{time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	c := New(clk.now)
	k := Key{DeviceID: "Appl7S032TF7A4S", User: "testuser2674"}
	if _, ok := c.Get(k); ok {
		t.Fatal("empty cache has the entry")
	}
	c.Put(Entry{Key: k, State: Allowed, Validated: true, Policy: "Exec", PolicyVersion: "3", ProtocolVersion: "14.1"})
	if !c.Touch(k, "16.1") || !c.Touch(k, "") {
		t.Fatal("Touch of a present entry reported absent")
	}
	e, ok := c.Get(k)
	if !ok || e.State != Allowed || !e.Validated || e.Connections != 2 || e.ProtocolVersion != "16.1" ||
		!e.LastSeen.Equal(clk.t) || e.Policy != "Exec" || e.PolicyVersion != "3" {
		t.Fatalf("got %+v", e)
	}
	if c.Touch(Key{DeviceID: "other"}, "14.1") {
		t.Fatal("Touch of an absent entry reported present")
	}
	// Update that declines leaves the entry alone.
	if _, changed := c.Update(k, func(e *Entry, exists bool) bool { e.State = Blocked; return false }); changed {
		t.Fatal("declined update reported a change")
	}
	if st, _, _ := c.State(k); st != Allowed {
		t.Fatalf("declined update changed the state to %v", st)
	}
	e, _ = c.Update(k, func(e *Entry, exists bool) bool {
		if !exists {
			t.Fatal("exists=false for a present entry")
		}
		e.State, e.RedirectURL = WipePending, "https://mail2.example.com"
		e.Key.User = "someone else" // the key cannot be changed through Update
		return true
	})
	if e.User != "testuser2674" || e.State != WipePending {
		t.Fatalf("update result %+v", e)
	}
	if got, _ := c.Get(k); got.RedirectURL != "https://mail2.example.com" || got.Connections != 2 {
		t.Fatalf("after update %+v", got)
	}
	if c.Len() != 1 || !c.Delete(k) || c.Delete(k) || c.Len() != 0 {
		t.Fatalf("delete: len %d", c.Len())
	}
}

func TestActiveSyncAndAppTunnelKeysAreDistinct(t *testing.T) {
	// SCOPE-10: one ActiveSync entry per (user, device); one tunnel per (user, app, device).
	c := New(nil)
	as := Key{DeviceID: "D1", User: "u"}
	appA, appB := Key{DeviceID: "D1", User: "u", App: "AppA"}, Key{DeviceID: "D1", User: "u", App: "AppB"}
	c.Put(Entry{Key: as, State: Blocked, Validated: true})
	c.Put(Entry{Key: appA, State: Allowed, Validated: true})
	c.Put(Entry{Key: appB, State: Allowed, Validated: true})
	if c.Len() != 3 || !as.ActiveSync() || appA.ActiveSync() {
		t.Fatalf("len %d", c.Len())
	}
	if st, _, _ := c.State(as); st != Blocked {
		t.Fatalf("ActiveSync entry state %v", st)
	}
}

func TestPurgeAndPeak(t *testing.T) {
	clk := &fakeClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := New(clk.now)
	for i := 0; i < 10; i++ {
		if i == 9 {
			clk.t = clk.t.Add(time.Hour)
		}
		c.Put(Entry{Key: Key{DeviceID: fmt.Sprint(i), User: "u"}, State: Allowed})
	}
	c.Put(Entry{Key: Key{DeviceID: "0", User: "u"}, State: Blocked}) // replace: no growth
	if n := c.Purge(); n != 10 || c.Len() != 0 {
		t.Fatalf("purge removed %d, len %d", n, c.Len())
	}
	c.Put(Entry{Key: Key{DeviceID: "x", User: "u"}, State: Allowed})
	peak, at := c.Peak()
	if peak != 10 || !at.Equal(clk.t) {
		t.Fatalf("peak %d at %v, want 10 at %v (DC-23)", peak, at, clk.t)
	}
}

func TestRangeSeesEveryEntryAndStops(t *testing.T) {
	c := New(nil)
	for i := 0; i < 1000; i++ {
		c.Put(Entry{Key: Key{DeviceID: fmt.Sprint(i), User: "u"}, State: Allowed})
	}
	seen := map[string]bool{}
	c.Range(func(e Entry) bool { seen[e.DeviceID] = true; return true })
	if len(seen) != 1000 {
		t.Fatalf("Range saw %d of 1000", len(seen))
	}
	n := 0
	c.Range(func(e Entry) bool {
		n++
		c.Delete(e.Key) // calling back into the cache must not deadlock
		return n < 10
	})
	if n != 10 || c.Len() != 990 {
		t.Fatalf("stopped after %d, len %d", n, c.Len())
	}
}

func TestConcurrentAccess(t *testing.T) {
	c := New(nil)
	var wg sync.WaitGroup
	const workers, perWorker = 8, 500
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				k := Key{DeviceID: fmt.Sprintf("d%d", i), User: "shared"}
				c.Update(k, func(e *Entry, exists bool) bool {
					e.State = Allowed
					e.Connections++
					return true
				})
				c.Touch(k, "14.1")
				c.State(k)
			}
		}(w)
	}
	wg.Wait()
	if c.Len() != perWorker {
		t.Fatalf("len %d, want %d", c.Len(), perWorker)
	}
	c.Range(func(e Entry) bool {
		if e.Connections != 2*workers {
			t.Errorf("%s: %d connections, want %d (lost update)", e.DeviceID, e.Connections, 2*workers)
		}
		return true
	})
}

func TestKeyMatches(t *testing.T) {
	long := strings.Repeat("x", 200) // two-byte length prefix
	keys := []Key{
		{DeviceID: "Appl7S032TF7A4S", User: "testuser2674"},
		{DeviceID: "Appl7S032TF7A4S", User: "testuser267"},
		{DeviceID: "Appl7S032TF7A4", User: "Stestuser2674"},
		{DeviceID: "dev", User: "u", App: "docs"},
		{DeviceID: "dev", User: "u"},
		{DeviceID: long, User: "u"},
		{DeviceID: long + "y", User: "u"},
		{DeviceID: "", User: ""},
	}
	for i, a := range keys {
		enc := string(appendKey(nil, a))
		for j, b := range keys {
			if got := keyMatches(enc, b); got != (i == j) {
				t.Errorf("keyMatches(enc(%d), %d) = %v", i, j, got)
			}
		}
		if keyMatches(enc[:len(enc)-1], a) || keyMatches(enc+"z", a) {
			t.Errorf("key %d matches a truncated or extended encoding", i)
		}
	}
}

// TestHashCollisions drives the chain that holds keys whose 64-bit hashes
// collide: a real collision cannot be produced, so records share h by hand.
func TestHashCollisions(t *testing.T) {
	var s shard
	s.reset(func(*record) uint64 { return 42 })
	keys := []Key{{DeviceID: "a", User: "1"}, {DeviceID: "b", User: "2"}, {DeviceID: "c", User: "3"}}
	for i, k := range append(keys, make([]Key, minBuckets)...) { // past minBuckets: the table grows
		if i >= len(keys) {
			k = Key{DeviceID: fmt.Sprint("x", i)}
		}
		r := newRecord(string(appendKey(nil, k)))
		r.connections = uint32(i)
		s.add(42, r)
	}
	for i, k := range keys {
		if r := s.find(42, k); r == nil || r.connections != uint32(i) {
			t.Fatalf("find %v = %+v", k, r)
		}
		if s.findEncoded(42, string(appendKey(nil, k))) == nil {
			t.Fatalf("findEncoded %v missing", k)
		}
	}
	if s.find(42, Key{DeviceID: "d", User: "4"}) != nil || s.remove(42, Key{DeviceID: "d"}) {
		t.Fatal("an absent key was found or removed")
	}
	count := func() (n int) { s.each(func(*record) { n++ }); return n }
	for _, k := range []Key{keys[1], keys[2], keys[0]} { // one chain holds all: middle, head and tail removals
		before := count()
		if !s.remove(42, k) || s.find(42, k) != nil || count() != before-1 {
			t.Fatalf("remove %v failed", k)
		}
	}
	if s.n != minBuckets {
		t.Fatalf("%d records left, want %d", s.n, minBuckets)
	}
}
