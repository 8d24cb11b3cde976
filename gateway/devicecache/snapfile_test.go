package devicecache

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// savedFleet saves n blocked devices (spread over every shard) and
// returns the store and the snapshot file's path.
func savedFleet(t *testing.T, n int) (*Store, string) {
	t.Helper()
	s, _ := openTemp(t)
	c := New(nil)
	for i := range n {
		c.Put(Entry{Key: Key{DeviceID: "dev-" + strconv.Itoa(i), User: "u"}, State: Blocked, Validated: true, Policy: "p"})
	}
	if got, err := s.Save(c); err != nil || got != n {
		t.Fatalf("Save = %d, %v", got, err)
	}
	return s, s.snapshotPath(1)
}

// TestLoadRefusesADamagedSnapshotWhole damages the snapshot file in each
// way a disk or a crash can, and checks Load refuses it with an error and
// adds nothing: a list is never half loaded.
func TestLoadRefusesADamagedSnapshotWhole(t *testing.T) {
	for name, damage := range map[string]func(b []byte) []byte{
		"byte flipped in the last block": func(b []byte) []byte { b[len(b)-40] ^= 1; return b },
		"torn (truncated)":               func(b []byte) []byte { return b[:len(b)*2/3] },
		"trailer cut":                    func(b []byte) []byte { return b[:len(b)-3] },
		"data after the trailer":         func(b []byte) []byte { return append(b, 0) },
		"other generation":               func(b []byte) []byte { b[len(snapMagic)+7] = 9; return b },
		"not a snapshot":                 func(b []byte) []byte { return []byte("GHDCSNP2") },
		"block count wrong": func(b []byte) []byte {
			// the first block's count, with its CRC recomputed
			binary.BigEndian.PutUint32(b[snapHeader+4:], binary.BigEndian.Uint32(b[snapHeader+4:])+1)
			size := binary.BigEndian.Uint32(b[snapHeader:])
			blk := b[snapHeader : snapHeader+blockHeader+int(size)]
			binary.BigEndian.PutUint32(blk[8:], blockCRC(blk, blk[blockHeader:]))
			return b
		},
		"block longer than the file": func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[snapHeader:], 1<<29)
			return b
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, path := savedFleet(t, 3000)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			c := New(nil)
			if n, err := s.Load(c); !errors.Is(err, errCorrupt) || n != 0 || c.Len() != 0 {
				t.Fatalf("Load = %d, %v (cache %d), want errCorrupt and nothing added", n, err, c.Len())
			}
		})
	}
}

func TestLoadRefusesAMissingSnapshot(t *testing.T) {
	s, path := savedFleet(t, 10)
	os.Remove(path)
	if _, err := s.Load(New(nil)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load = %v, want the missing file named", err)
	}
}

// TestLoadRefusesACorruptOldListWhole: a store format 2 list whose last
// chunk is corrupt is refused before any entry of its good chunks is
// added (the loader used to add them, then fail).
func TestLoadRefusesACorruptOldListWhole(t *testing.T) {
	s, _ := openTemp(t)
	good := appendStored(nil, recordOf(Entry{Key: Key{DeviceID: "d", User: "u"}, State: Allowed, Validated: true}))
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists(bucketDevices)
		b.Put([]byte{0, 0}, good)
		return b.Put([]byte{0, 1}, []byte{50, 'a'})
	})
	if err != nil {
		t.Fatal(err)
	}
	c := New(nil)
	if _, err := s.Load(c); !errors.Is(err, errCorrupt) || c.Len() != 0 {
		t.Fatalf("Load = %v with %d entries added, want errCorrupt and none", err, c.Len())
	}
}

func recordOf(e Entry) *record {
	r := newRecord(string(encodeKey(e.Key)))
	r.set(&e)
	return r
}

// TestOldListLoadsAndTheNextSaveReplacesIt writes a list the way store
// format 2 did (chunks in the devices bucket), loads it, saves, and
// checks the bucket is gone and the snapshot holds the list.
func TestOldListLoadsAndTheNextSaveReplacesIt(t *testing.T) {
	s, path := openTemp(t)
	var chunk []byte
	for i := range 500 {
		chunk = appendStored(chunk, recordOf(Entry{Key: Key{DeviceID: "old-" + strconv.Itoa(i), User: "u"}, State: Blocked, Validated: true}))
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists(bucketDevices)
		if err := b.Put([]byte{0, 7}, chunk); err != nil {
			return err
		}
		m, _ := tx.CreateBucketIfNotExists(bucketMeta)
		return m.Put(keyCount, binary.BigEndian.AppendUint64(nil, 500))
	})
	if err != nil {
		t.Fatal(err)
	}
	c := New(nil)
	if n, err := s.Load(c); err != nil || n != 500 {
		t.Fatalf("Load of the old list = %d, %v", n, err)
	}
	if _, err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDevices) != nil {
			t.Error("the old list is still in the bbolt file")
		}
		return nil
	})
	again := New(nil)
	if n, err := s.Load(again); err != nil || n != 500 {
		t.Fatalf("Load after the save = %d, %v", n, err)
	}
	if st, _, _ := again.State(Key{DeviceID: "old-499", User: "u"}); st != Blocked {
		t.Fatalf("old-499 is %v", st)
	}
	files, _ := filepath.Glob(path + ".snapshot-*")
	if len(files) != 1 {
		t.Fatalf("snapshot files %v, want one", files)
	}
}

// TestSaveRemovesUnnamedSnapshots: a file a crash left (a newer
// generation never named, a temporary) is not read and goes at the next
// save; the previous generation goes too.
func TestSaveRemovesUnnamedSnapshots(t *testing.T) {
	s, path := savedFleet(t, 10)
	stray := []string{s.snapshotPath(2), s.snapshotPath(2) + ".tmp"}
	for _, f := range stray {
		os.WriteFile(f, []byte("torn"), 0o600)
	}
	if n, err := s.Load(New(nil)); err != nil || n != 10 {
		t.Fatalf("Load = %d, %v: the unnamed file was read", n, err)
	}
	c := New(nil)
	c.Put(Entry{Key: Key{DeviceID: "x", User: "u"}, State: Allowed, Validated: true})
	if _, err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Dir(path) + "/*.snapshot-*")
	if len(files) != 1 || files[0] != s.snapshotPath(2) {
		t.Fatalf("snapshot files %v, want only generation 2", files)
	}
}

// TestJournalDuringSaveIsKept journals a block while a save is between
// encoding the list and naming it: the list may not hold the block, so
// the save must keep the journal entry instead of emptying the journal.
func TestJournalDuringSaveIsKept(t *testing.T) {
	s, _ := openTemp(t)
	c := New(nil)
	c.Put(Entry{Key: Key{DeviceID: "d", User: "u"}, State: Allowed, Validated: true})
	blocked := Entry{Key: Key{DeviceID: "d", User: "u"}, State: Blocked, Validated: true}
	saveHook = func() {
		c.Put(blocked)
		if err := s.Journal(blocked); err != nil {
			t.Error(err)
		}
	}
	defer func() { saveHook = nil }()
	if _, err := s.Save(c); err != nil {
		t.Fatal(err)
	}
	r := New(nil)
	if _, err := s.Load(r); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := r.State(blocked.Key); st != Blocked {
		t.Fatalf("a block journaled during a save came back %v", st)
	}
}

// FuzzLoadSnapshot reads arbitrary bytes as generation 1's snapshot
// file, as Load does (the check pass, then the loading pass): no panic,
// and a file the check accepts loads without an error, every record it
// counted added. Seeds: a valid file, and that file torn.
func FuzzLoadSnapshot(f *testing.F) {
	dir := f.TempDir()
	s, err := OpenStore(filepath.Join(dir, "seed.db"))
	if err != nil {
		f.Fatal(err)
	}
	c := New(nil)
	c.Put(Entry{Key: Key{DeviceID: "d", User: "u"}, State: Blocked, Validated: true, Policy: "p", RedirectURL: "https://r/"})
	c.Put(Entry{Key: Key{DeviceID: "t", User: "u", App: "a"}, State: Allowed, Validated: true, Connections: 3})
	if _, err := s.Save(c); err != nil {
		f.Fatal(err)
	}
	valid, err := os.ReadFile(s.snapshotPath(1))
	s.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-10])
	f.Add(valid[:snapHeader+blockHeader])
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "snapshot")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		total, err := readSnapshot(path, 1, validStored)
		if err != nil {
			return // refused whole: nothing was added
		}
		c := New(nil)
		var added atomic.Int64
		_, err = readSnapshot(path, 1, func(chunk []byte) (int, error) {
			seen, n, err := c.loadChunk(chunk, nil, nil)
			added.Add(int64(n))
			return seen, err
		})
		if err != nil {
			t.Fatalf("checked file failed to load: %v", err)
		}
		if c.grewBy(int(added.Load())); c.Len() > total {
			t.Fatalf("loaded %d entries from a file of %d", c.Len(), total)
		}
	})
}
