package devicecache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "devices.db")
	s, err := OpenStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestSaveWritesOnlyKnownStates(t *testing.T) {
	// DC-17: devices whose state is unknown (not validated by the UEM) are not written.
	c := New(nil)
	seen := time.Date(2026, 11, 23, 18, 30, 57, 0, time.UTC)
	full := Entry{Key: Key{DeviceID: "0V55EEVSRT5UVFA05AUBLF904S", User: "alice"}, State: Allowed, Validated: true,
		Connections: 7, ProtocolVersion: "14.1", LastSeen: seen, Policy: "Exec", PolicyVersion: "v2", RedirectURL: "https://x/"}
	c.Put(full)
	c.Put(Entry{Key: Key{DeviceID: "blocked", User: "bob"}, State: Blocked, Validated: true})
	c.Put(Entry{Key: Key{DeviceID: "wiped", User: "carol"}, State: Blocked, Wiped: true, Validated: true})
	c.Put(Entry{Key: Key{DeviceID: "failopen", User: "dave"}, State: Allowed, Validated: false})
	c.Put(Entry{Key: Key{DeviceID: "tunnel", User: "alice", App: "Docs@Work"}, State: Allowed, Validated: true})
	s, _ := openTemp(t)
	n, err := s.Save(c)
	if err != nil || n != 4 {
		t.Fatalf("Save wrote %d (%v), want 4", n, err)
	}
	st, err := s.Status()
	if err != nil || st.Entries != 4 || st.SavedAt.IsZero() {
		t.Fatalf("status %+v %v", st, err)
	}

	restored := New(nil)
	n, err = s.Load(restored)
	if err != nil || n != 4 {
		t.Fatalf("Load restored %d (%v), want 4", n, err)
	}
	if got, ok := restored.Get(full.Key); !ok || got != full {
		t.Fatalf("restored %+v\nwant     %+v", got, full)
	}
	if e, _ := restored.Get(Key{DeviceID: "wiped", User: "carol"}); !e.Wiped || e.State != Blocked {
		t.Fatalf("wiped entry restored as %+v", e)
	}
	if _, ok := restored.Get(Key{DeviceID: "failopen", User: "dave"}); ok {
		t.Fatal("fail-open entry was persisted")
	}
}

func TestLoadKeepsEntriesInMemory(t *testing.T) {
	// DC-18: devices already in memory are not counted, and memory (newer) wins.
	s, _ := openTemp(t)
	c := New(nil)
	c.Put(Entry{Key: Key{DeviceID: "a", User: "u"}, State: Allowed, Validated: true})
	c.Put(Entry{Key: Key{DeviceID: "b", User: "u"}, State: Allowed, Validated: true})
	if _, err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	mem := New(nil)
	mem.Put(Entry{Key: Key{DeviceID: "a", User: "u"}, State: Blocked, Validated: true})
	n, err := s.Load(mem)
	if err != nil || n != 1 {
		t.Fatalf("restored %d (%v), want 1", n, err)
	}
	if st, _, _ := mem.State(Key{DeviceID: "a", User: "u"}); st != Blocked {
		t.Fatalf("disk overwrote memory: %v", st)
	}
}

func TestSaveReplacesPreviousList(t *testing.T) {
	s, _ := openTemp(t)
	c := New(nil)
	c.Put(Entry{Key: Key{DeviceID: "gone", User: "u"}, State: Allowed, Validated: true})
	s.Save(c)
	c.Purge()
	c.Put(Entry{Key: Key{DeviceID: "new", User: "u"}, State: Allowed, Validated: true})
	s.Save(c)
	r := New(nil)
	if n, _ := s.Load(r); n != 1 {
		t.Fatalf("restored %d, want only the second save", n)
	}
	if _, ok := r.Get(Key{DeviceID: "gone", User: "u"}); ok {
		t.Fatal("a purged entry survived the next save")
	}
}

func TestLoadRejectsCorruptRecords(t *testing.T) {
	for name, val := range map[string][]byte{
		"future format": {9, 'A', 0},
		"old format":    {1, 'A', 0, 0, 0, 0, 0, 0, 0},
		"bad state":     {recordFormat, 'Z', 0, 0, 0, 0, 0, 0, 0},
		"truncated":     {recordFormat, 'A', 0, 0},
		"long string":   {recordFormat, 'A', 0, 0, 0, 200, 'x'},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := openTemp(t)
			k := encodeKey(Key{DeviceID: "d", User: "u"})
			chunk := binary.AppendUvarint(nil, uint64(len(k)))
			chunk = append(chunk, k...)
			chunk = binary.AppendUvarint(chunk, uint64(len(val)))
			chunk = append(chunk, val...)
			err := s.db.Update(func(tx *bolt.Tx) error {
				b, _ := tx.CreateBucketIfNotExists(bucketDevices)
				return b.Put([]byte{0, 0}, chunk)
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(New(nil)); !errors.Is(err, errCorrupt) {
				t.Fatalf("Load = %v, want errCorrupt", err)
			}
		})
	}
}

func TestRecordCodecRoundTrip(t *testing.T) {
	for _, e := range []Entry{
		{Key: Key{DeviceID: "", User: "", App: ""}, State: PolicyPending},
		{Key: Key{DeviceID: "d\x00x", User: "ü", App: "a"}, State: WipePending, Validated: true, Connections: 1<<32 - 1,
			LastSeen: time.Unix(0, -5).UTC(), ProtocolVersion: "16.1", Policy: strings.Repeat("p", 300)},
	} {
		k, err := decodeKey(encodeKey(e.Key))
		if err != nil || k != e.Key {
			t.Fatalf("key %+v -> %+v %v", e.Key, k, err)
		}
		if ks, err := decodeKeyString(string(encodeKey(e.Key))); err != nil || ks != e.Key {
			t.Fatalf("string key %+v -> %+v %v", e.Key, ks, err)
		}
		got, err := decodeRecord(k, encodeRecord(e))
		if err != nil || got != e {
			t.Fatalf("record %+v -> %+v %v", e, got, err)
		}
	}
}

// TestCrashDuringSaveKeepsBlockedDevices kills a process with SIGKILL while
// it rewrites a large device list, many times, and checks that the file
// always opens and every device that was blocked in every generation is
// still blocked: a crash must never turn a blocked device into an unknown
// (and so fail-open allowed) one.
func TestCrashDuringSaveKeepsBlockedDevices(t *testing.T) {
	if os.Getenv("DEVICECACHE_CRASH_CHILD") != "" {
		crashChild(os.Getenv("DEVICECACHE_CRASH_CHILD"))
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "devices.db")
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringSaveKeepsBlockedDevices$")
		cmd.Env = append(os.Environ(), "DEVICECACHE_CRASH_CHILD="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the child reports it is inside a save of generation
		// >= 1, then kill it after a delay that varies by round.
		buf := make([]byte, 64)
		for {
			n, err := out.Read(buf)
			if err != nil {
				t.Fatalf("child ended early: %v", err)
			}
			if strings.Contains(string(buf[:n]), "saving") {
				break
			}
		}
		time.Sleep(time.Duration(round*7) * time.Millisecond) // vary where in the write the kill lands
		_ = cmd.Process.Kill()
		_ = cmd.Wait()

		s, err := OpenStore(path)
		if err != nil {
			t.Fatalf("round %d: store does not open after SIGKILL: %v", round, err)
		}
		c := New(nil)
		if _, err := s.Load(c); err != nil {
			t.Fatalf("round %d: load after SIGKILL: %v", round, err)
		}
		s.Close()
		if c.Len() == 0 {
			continue // killed before the first commit
		}
		for i := 0; i < crashBlocked; i++ {
			k := Key{DeviceID: "blocked-" + strconv.Itoa(i), User: "u"}
			if st, _, ok := c.State(k); !ok || st != Blocked {
				t.Fatalf("round %d: %v is %v (present %v) after a crash, want blocked", round, k, st, ok)
			}
		}
	}
}

const crashBlocked = 1000

// crashChild rewrites the list forever: blocked devices stay blocked, the
// allowed ones change generation each time, so every save is a full rewrite.
func crashChild(path string) {
	s, err := OpenStore(path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	c := New(nil)
	for i := 0; i < crashBlocked; i++ {
		c.Put(Entry{Key: Key{DeviceID: "blocked-" + strconv.Itoa(i), User: "u"}, State: Blocked, Validated: true})
	}
	for gen := 0; gen < 1000; gen++ {
		for i := 0; i < 50000; i++ {
			c.Put(Entry{Key: Key{DeviceID: "allowed-" + strconv.Itoa(i), User: "u"}, State: Allowed, Validated: true, Policy: "gen" + strconv.Itoa(gen)})
		}
		if gen >= 1 {
			fmt.Println("saving")
		}
		if _, err := s.Save(c); err != nil {
			fmt.Println("save:", err)
			os.Exit(2)
		}
	}
	os.Exit(0)
}

func TestDecodeKeyStringRejectsCorruptKeys(t *testing.T) {
	for _, bad := range []string{"", "\x05ab", "\x00\x00", "\x00\x00\x00x", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"} {
		if _, err := decodeKeyString(bad); !errors.Is(err, errCorrupt) {
			t.Errorf("decodeKeyString(%q) = %v", bad, err)
		}
	}
}

func TestLoadRejectsCorruptChunks(t *testing.T) {
	for name, chunk := range map[string][]byte{
		"key longer than chunk":    {50, 'a'},
		"record longer than chunk": {3, 0, 1, 'd', 40, 1},
		"bad key encoding":         {2, 9, 9, 1, 1},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := openTemp(t)
			s.db.Update(func(tx *bolt.Tx) error {
				b, _ := tx.CreateBucketIfNotExists(bucketDevices)
				return b.Put([]byte{0, 1}, chunk)
			})
			if _, err := s.Load(New(nil)); !errors.Is(err, errCorrupt) {
				t.Fatalf("Load = %v, want errCorrupt", err)
			}
		})
	}
}

func TestJournalSurvivesWithoutAFullSave(t *testing.T) {
	// A block learnt after the last full save is on disk at once, and the
	// journal's copy wins over the older snapshot's.
	s, _ := openTemp(t)
	c := New(nil)
	k := Key{DeviceID: "D", User: "u"}
	c.Put(Entry{Key: k, State: Allowed, Validated: true})
	if _, err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	if err := s.Journal(Entry{Key: k, State: Blocked, Validated: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Journal(Entry{Key: Key{DeviceID: "N", User: "u"}, State: Allowed}); err == nil {
		t.Fatal("an undecided entry was journaled")
	}
	fresh := New(nil)
	if n, err := s.Load(fresh); err != nil || n != 1 {
		t.Fatalf("load %d %v", n, err)
	}
	if st, _, _ := fresh.State(k); st != Blocked {
		t.Fatalf("state after restart %v, want the journaled block", st)
	}
	// A full save folds the journal in and empties it.
	c.Put(Entry{Key: k, State: Allowed, Validated: true})
	s.Save(c)
	again := New(nil)
	s.Load(again)
	if st, _, _ := again.State(k); st != Allowed {
		t.Fatalf("state after a later full save %v, want the snapshot's", st)
	}
}

func TestReprovisionFlagIsStored(t *testing.T) {
	// A policy changed while the device was blocked is still due after a
	// restart; older files (no flag) read as not due.
	s, _ := openTemp(t)
	c := New(nil)
	e := Entry{Key: Key{DeviceID: "d", User: "u"}, State: Blocked, Validated: true, Policy: "p", PolicyVersion: "2", Reprovision: true}
	c.Put(e)
	if _, err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	restored := New(nil)
	if _, err := s.Load(restored); err != nil {
		t.Fatal(err)
	}
	if got, _ := restored.Get(e.Key); got != e {
		t.Fatalf("restored %+v, want %+v", got, e)
	}
	old := encodeRecord(Entry{State: Blocked, Validated: true})
	if got, err := decodeRecord(Key{}, old); err != nil || got.Reprovision {
		t.Fatalf("a record without the flag decodes as %+v, %v", got, err)
	}
}

func TestLoadWipedTakesOnlyDeliveredWipes(t *testing.T) {
	// ACT-06: at start from the UEM, only the wipes the gateway delivered
	// come from disk; the journal, newer, hides the full save's copy.
	s, _ := openTemp(t)
	c := New(nil)
	wiped := Entry{Key: Key{DeviceID: "wiped", User: "u"}, State: Blocked, Wiped: true, Validated: true}
	c.Put(wiped)
	c.Put(Entry{Key: Key{DeviceID: "blocked", User: "u"}, State: Blocked, Validated: true})
	c.Put(Entry{Key: Key{DeviceID: "allowed", User: "u"}, State: Allowed, Validated: true})
	c.Put(Entry{Key: Key{DeviceID: "removed", User: "u"}, State: Blocked, Wiped: true, Validated: true})
	if _, err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	// Since the save: "removed" was removed in the UEM and came back as a
	// new, blocked association; "late" was wiped.
	late := Entry{Key: Key{DeviceID: "late", User: "u"}, State: Blocked, Wiped: true, Validated: true}
	for _, e := range []Entry{{Key: Key{DeviceID: "removed", User: "u"}, State: Blocked, Validated: true}, late} {
		if err := s.Journal(e); err != nil {
			t.Fatal(err)
		}
	}
	got := New(nil)
	n, err := s.LoadWiped(got)
	if err != nil || n != 2 || got.Len() != 2 {
		t.Fatalf("LoadWiped added %d (%v), cache %d; want 2", n, err, got.Len())
	}
	for _, want := range []Entry{wiped, late} {
		if e, ok := got.Get(want.Key); !ok || e != want {
			t.Errorf("%s: %+v, want %+v", want.DeviceID, e, want)
		}
	}
}
