package exchange

import (
	"bytes"
	"testing"
)

// Servers seeded alike share the seeding's messages (generated and parsed
// once per process: most of a scenario world's start), and hold the same
// mailboxes as a server seeded alone.
func TestSeedingIsSharedAndUnchanged(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", Seed: 4242, NumUsers: 3, MessagesPerUser: 6}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seedings.Lock()
	seedings.m = nil // a seeding made afresh, not replayed
	seedings.Unlock()
	fresh, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"user1", "user2", "user3"} {
		ga, gb, gf := a.Generated(user), b.Generated(user), fresh.Generated(user)
		if len(ga) != cfg.MessagesPerUser || len(gb) != len(ga) || len(gf) != len(ga) {
			t.Fatalf("%s: %d, %d and %d messages", user, len(ga), len(gb), len(gf))
		}
		for i := range ga {
			if ga[i] != gb[i] {
				t.Errorf("%s message %d: generated again, not shared", user, i)
			}
			if !bytes.Equal(gf[i].Raw, ga[i].Raw) {
				t.Errorf("%s message %d differs from a fresh seeding's", user, i)
			}
		}
		ma, mb := a.mailbox(user), b.mailbox(user)
		for fi, f := range ma.folders {
			for ii, it := range f.items {
				other := mb.folders[fi].items[ii]
				if it.Msg != other.Msg || !bytes.Equal(it.Raw, other.Raw) || it.ServerID != other.ServerID {
					t.Errorf("%s %s item %d: not the shared message", user, f.ID, ii)
				}
			}
		}
	}
}
