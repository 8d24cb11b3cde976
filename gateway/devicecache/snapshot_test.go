package devicecache

import (
	"testing"
	"unsafe"
)

func TestDeleteUnchangedRemovesOnlyWhatDidNotChange(t *testing.T) {
	// FLOW-13: a resync drops what the UEM no longer lists, but only among
	// the entries it saw before it asked for the list, and unchanged since.
	c := New(nil)
	k := func(d string) Key { return Key{DeviceID: d, User: "u"} }
	for _, d := range []string{"gone", "touched", "updated", "readded", "kept"} {
		c.Put(Entry{Key: k(d), State: Allowed, Validated: true, Policy: "p", PolicyVersion: "1"})
	}
	snap := c.Snapshot(func(e Entry) bool { return e.Validated })
	if snap.Len() != 5 {
		t.Fatalf("snapshot of %d entries, want 5", snap.Len())
	}
	// Meanwhile: a device's own traffic is no change; a new decision is;
	// so is an entry removed and added again (a purge, then a first
	// access), even with the same content; and a brand new entry.
	c.Touch(k("touched"), "16.1")
	c.Update(k("updated"), func(e *Entry, _ bool) bool { e.State = Blocked; return true })
	c.Delete(k("readded"))
	c.Put(Entry{Key: k("readded"), State: Allowed, Validated: true, Policy: "p", PolicyVersion: "1"})
	c.Put(Entry{Key: k("new"), State: Allowed, Validated: true})

	n := c.DeleteUnchanged(snap, func(key Key) bool { return key != k("kept") })
	if n != 2 {
		t.Errorf("removed %d, want 2 (gone, touched)", n)
	}
	for d, want := range map[string]bool{"gone": false, "touched": false, "updated": true, "readded": true, "kept": true, "new": true} {
		if _, ok := c.Get(k(d)); ok != want {
			t.Errorf("%s present = %v, want %v", d, ok, want)
		}
	}
	if c.Len() != 4 {
		t.Errorf("Len = %d after removals, want 4", c.Len())
	}
}

func TestRecordStaysInItsSizeClass(t *testing.T) {
	// The header is 32 bytes so that a 32-character device id and a
	// typical UPN (a 62-byte key) fill the 96-byte size class with it.
	if unsafe.Sizeof(uintptr(0)) == 8 && unsafe.Sizeof(record{}) > 32 {
		t.Fatalf("record header is %d bytes, want at most 32", unsafe.Sizeof(record{}))
	}
}
