package devicecache

import (
	"strings"
	"testing"
	"unsafe"
)

// TestRecordKeySizes puts keys of every inline size class boundary and
// one too long to sit inline, and reads each back through every path that
// decodes a record's key (Get, Range, Save and Load).
func TestRecordKeySizes(t *testing.T) {
	c := New(nil)
	var keys []Key
	for _, n := range []int{1, 29, 30, 45, 46, 61, 62, 77, 93, 125, 157, 221, 222, 300, 70000} {
		k := Key{DeviceID: strings.Repeat("d", n/2), User: strings.Repeat("u", n-n/2)}
		keys = append(keys, k)
		c.Put(Entry{Key: k, State: Blocked, Validated: true, Wiped: n%2 == 0, ProtocolVersion: "16.1", Connections: uint32(n)})
	}
	check := func(c *Cache) {
		t.Helper()
		for _, k := range keys {
			e, ok := c.Get(k)
			if !ok || e.Key != k || e.Connections != uint32(len(k.DeviceID)+len(k.User)) || e.Wiped != (e.Connections%2 == 0) {
				t.Fatalf("key of %d bytes: got %v %+v", len(k.DeviceID)+len(k.User), ok, e.Key == k)
			}
		}
		n := 0
		c.Range(func(Entry) bool { n++; return true })
		if n != len(keys) {
			t.Fatalf("Range saw %d entries, want %d", n, len(keys))
		}
	}
	check(c)
	s, err := OpenStore(t.TempDir() + "/d.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	fresh := New(nil)
	if n, err := s.Load(fresh); err != nil || n != len(keys) {
		t.Fatalf("Load = %d, %v", n, err)
	}
	check(fresh)
}

// TestInlineKeysFollowTheHeader pins what newRecord and key rely on: each
// inline type starts with the header and its key bytes start right after.
func TestInlineKeysFollowTheHeader(t *testing.T) {
	for _, c := range []struct{ rec, key, size uintptr }{
		{unsafe.Offsetof(rec32{}.record), unsafe.Offsetof(rec32{}.key), unsafe.Sizeof(rec32{}.key)},
		{unsafe.Offsetof(rec48{}.record), unsafe.Offsetof(rec48{}.key), unsafe.Sizeof(rec48{}.key)},
		{unsafe.Offsetof(rec64{}.record), unsafe.Offsetof(rec64{}.key), unsafe.Sizeof(rec64{}.key)},
		{unsafe.Offsetof(rec80{}.record), unsafe.Offsetof(rec80{}.key), unsafe.Sizeof(rec80{}.key)},
		{unsafe.Offsetof(rec96{}.record), unsafe.Offsetof(rec96{}.key), unsafe.Sizeof(rec96{}.key)},
		{unsafe.Offsetof(rec128{}.record), unsafe.Offsetof(rec128{}.key), unsafe.Sizeof(rec128{}.key)},
		{unsafe.Offsetof(rec160{}.record), unsafe.Offsetof(rec160{}.key), unsafe.Sizeof(rec160{}.key)},
		{unsafe.Offsetof(rec224{}.record), unsafe.Offsetof(rec224{}.key), unsafe.Sizeof(rec224{}.key)},
		{unsafe.Offsetof(recordOut{}.record), recordSize, 0},
	} {
		if c.rec != 0 || c.key != recordSize {
			t.Errorf("a %d-byte inline key type has its header at %d and its key at %d, want 0 and %d", c.size, c.rec, c.key, recordSize)
		}
	}
}

// TestDeleteUnchangedReadsKeysWhileEntriesChange: DeleteUnchanged reads a
// snapshot's record keys without the shard's lock while Put rewrites the
// same records' state and flags; the key must depend on nothing Put
// writes (run with -race).
func TestDeleteUnchangedReadsKeysWhileEntriesChange(t *testing.T) {
	c := New(nil)
	var keys []Key
	for i := range 200 {
		k := Key{DeviceID: strings.Repeat("d", 1+i%40), User: string(rune('a' + i%26))}
		keys = append(keys, k)
		c.Put(Entry{Key: k, State: Allowed, Validated: true})
	}
	snap := c.Snapshot(func(Entry) bool { return true })
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5 {
			for _, k := range keys {
				c.Put(Entry{Key: k, State: Blocked, Validated: i%2 == 0, Wiped: true})
			}
		}
	}()
	c.DeleteUnchanged(snap, func(Key) bool { return true })
	<-done
}
