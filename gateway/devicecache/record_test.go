package devicecache

import (
	"strings"
	"testing"
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
