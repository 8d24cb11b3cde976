package devicecache

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Store is the persistent device list (DC-02): a bbolt file whose every
// write is one transaction, so a crash mid-write leaves the previous list
// intact and a known-blocked device can never come back as unknown. The
// full list lives in a snapshot file beside it (snapfile.go), which the
// bbolt file names: a Save writes and syncs a new file, then one bbolt
// transaction names it and empties the journal.
type Store struct {
	db   *bolt.DB
	path string
	// saveMu makes Saves one at a time; mu orders Journal against a
	// Save's commit, and pending (non-nil while a Save runs) holds the
	// entries journaled since the Save started encoding: the snapshot may
	// predate them, so its commit keeps them in the journal.
	saveMu  sync.Mutex
	mu      sync.Mutex
	pending map[string][]byte
}

var (
	bucketDevices = []byte("devices") // store format 2's list, read when no snapshot is named
	bucketMeta    = []byte("meta")
	// bucketJournal holds entries written one by one between full saves:
	// every state the UEM decided that must survive a crash (blocked,
	// wipe pending, wiped). A full save folds them in and empties it.
	bucketJournal = []byte("journal")
	keySavedAt    = []byte("saved-at")
	keyCount      = []byte("count")
	keySnapshot   = []byte("snapshot") // generation of the snapshot file holding the list
)

// recordFormat is the first byte of every stored record; bump it when the
// layout changes so old files are refused instead of misread. Store
// format 3 (the snapshot file) keeps format 2's records.
const recordFormat = 2

// OpenStore opens (creating if needed) the device list at path.
func OpenStore(path string) (*Store, error) {
	// A large initial mmap avoids remapping while a big list is written;
	// each remap makes bbolt copy every node it holds out of the old map.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, NoFreelistSync: true, InitialMmapSize: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("devicecache: open %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Persistable reports whether an entry belongs in the persistent list:
// only entries whose state the UEM decided (DC-17). A device let in by
// fail-open is not written, so after a restart it is new again.
func Persistable(e Entry) bool { return e.Validated && e.State.Valid() }

// Save replaces the stored list with the persistable entries of c and
// returns how many it wrote.
//
// The shards are encoded on every core into a new snapshot file, written
// sequentially and synced once; one bbolt transaction then names that
// file and empties the journal, so a crash at any point leaves either the
// previous list or the new one, each with the journal that belongs to it.
func (s *Store) Save(c *Cache) (int, error) {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	var gen uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		gen = snapshotGen(tx) + 1
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("devicecache: save: %w", err)
	}
	s.mu.Lock()
	s.pending = make(map[string][]byte)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.pending = nil; s.mu.Unlock() }()
	path := s.snapshotPath(gen)
	total, err := writeSnapshot(path, gen, c)
	if err != nil {
		return 0, fmt.Errorf("devicecache: save: %w", err)
	}
	if saveHook != nil {
		saveHook()
	}
	if err := s.commit(gen, total, c.now()); err != nil {
		os.Remove(path)
		return 0, fmt.Errorf("devicecache: save: %w", err)
	}
	s.removeStale(gen)
	return total, nil
}

// saveHook, when set by a test, runs between writing a snapshot and
// naming it.
var saveHook func()

// commit names generation gen's snapshot as the list and replaces the
// journal with the entries journaled while it was written.
func (s *Store) commit(gen uint64, total int, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketDevices, bucketJournal} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
		}
		if len(s.pending) > 0 {
			j, err := tx.CreateBucket(bucketJournal)
			if err != nil {
				return err
			}
			for k, v := range s.pending {
				if err := j.Put([]byte(k), v); err != nil {
					return err
				}
			}
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyCount, binary.BigEndian.AppendUint64(nil, uint64(total))); err != nil {
			return err
		}
		if err := meta.Put(keySnapshot, binary.BigEndian.AppendUint64(nil, gen)); err != nil {
			return err
		}
		return meta.Put(keySavedAt, binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())))
	})
}

// removeStale deletes the snapshot files of other generations (the
// previous list, and files a crash left before they were named).
func (s *Store) removeStale(keep uint64) {
	files, _ := filepath.Glob(s.path + ".snapshot-*")
	for _, f := range files {
		if f != s.snapshotPath(keep) {
			os.Remove(f)
		}
	}
}

// snapshotGen returns the generation of the named snapshot file, 0 when
// the list is still store format 2's devices bucket (or empty).
func snapshotGen(tx *bolt.Tx) uint64 {
	if m := tx.Bucket(bucketMeta); m != nil {
		if v := m.Get(keySnapshot); len(v) == 8 {
			return binary.BigEndian.Uint64(v)
		}
	}
	return 0
}

// Journal writes one entry to disk at once, in its own transaction, for
// the decisions a crash must not lose: a device learnt to be blocked, to
// be wiped, or wiped, between two full saves. Entries the UEM did not
// decide are refused, as in Save.
func (s *Store) Journal(e Entry) error {
	if !Persistable(e) {
		return fmt.Errorf("devicecache: journal: entry %s/%s has no decided state", e.DeviceID, e.User)
	}
	k, v := encodeKey(e.Key), encodeRecord(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketJournal)
		if err != nil {
			return err
		}
		return b.Put(k, v)
	})
	if err != nil {
		return fmt.Errorf("devicecache: journal: %w", err)
	}
	if s.pending != nil {
		s.pending[string(k)] = v
	}
	return nil
}

// Load adds every stored entry that is not already in c and returns how
// many it added (DC-18). Entries in memory are newer and win.
func (s *Store) Load(c *Cache) (int, error) { return s.load(c, nil) }

// LoadWiped adds the stored entries of devices that acknowledged a remote
// wipe (Wiped), unless already in c, and returns how many it added. Only
// the gateway knows a wipe was delivered: the UEM keeps reporting the
// association as wiped until it is removed, so a gateway that starts from
// the UEM takes these from here.
func (s *Store) LoadWiped(c *Cache) (int, error) {
	return s.load(c, func(rec []byte) bool { return len(rec) > 2 && rec[2]&flagWiped != 0 })
}

// LoadBlocked adds the stored entries of blocked and wipe-pending
// devices (not those LoadWiped takes), unless already in c, and returns
// how many it added. A gateway that starts from the UEM gets only its
// allowed devices (FLOW-10); without these, a device it knew as blocked
// would be a new device until the next resync, and let in by fail-open
// if the UEM went away in between.
func (s *Store) LoadBlocked(c *Cache) (int, error) {
	return s.load(c, func(rec []byte) bool {
		return len(rec) > 2 && rec[2]&flagWiped == 0 && (State(rec[1]) == Blocked || State(rec[1]) == WipePending)
	})
}

// load adds the stored entries whose encoded record keep accepts (all
// when keep is nil); keep reads the flags without decoding the record.
// The journal and the whole list are checked before the first entry is
// added: a corrupt file is refused, not half loaded.
func (s *Store) load(c *Cache, keep func(rec []byte) bool) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		journal, journaled, err := readJournal(tx, keep)
		if err != nil {
			return err
		}
		list := listOf(s, tx)
		if _, err := list(validStored); err != nil {
			return err
		}
		// The journal is newer than the list: add it first, so that the
		// list's older copy of an entry is not taken.
		var memo profileMemo
		for i := range journal {
			if c.insertLoaded(journal[i].Key, journal[i].enc, &journal[i].Entry, &memo) {
				n++
			}
		}
		c.grewBy(n)
		if m := tx.Bucket(bucketMeta); m != nil && keep == nil {
			if v := m.Get(keyCount); len(v) == 8 && binary.BigEndian.Uint64(v) < 1<<40 {
				c.reserve(c.Len() + int(binary.BigEndian.Uint64(v)))
			}
		}
		var added atomic.Int64
		_, err = list(func(chunk []byte) (int, error) {
			seen, k, err := c.loadChunk(chunk, keep, journaled)
			added.Add(int64(k))
			return seen, err
		})
		c.grewBy(int(added.Load()))
		n += int(added.Load())
		return err
	})
	if err != nil {
		return n, fmt.Errorf("devicecache: load: %w", err)
	}
	return n, nil
}

type journalEntry struct {
	Entry
	enc string
}

// readJournal decodes the journal. With a filter, it also returns every
// journaled key, kept or not: a journaled entry the filter refuses must
// still hide the list's older copy (a wipe forgotten since, by a Remove
// and a new association); without one, insertLoaded does that.
func readJournal(tx *bolt.Tx, keep func(rec []byte) bool) ([]journalEntry, map[string]struct{}, error) {
	var out []journalEntry
	journaled := make(map[string]struct{})
	j := tx.Bucket(bucketJournal)
	if j == nil {
		return nil, journaled, nil
	}
	err := j.ForEach(func(k, v []byte) error {
		key, err := decodeKey(k)
		if err != nil {
			return err
		}
		e, err := decodeRecord(key, v)
		if err != nil {
			return fmt.Errorf("journal entry %q: %w", key.DeviceID, err)
		}
		if keep != nil {
			journaled[string(k)] = struct{}{}
			if !keep(v) {
				return nil
			}
		}
		out = append(out, journalEntry{e, string(k)})
		return nil
	})
	return out, journaled, err
}

// listOf returns a function that calls fn with every chunk of the stored
// list: the named snapshot file's blocks (on every core), or store
// format 2's bbolt values, and returns how many records fn saw.
func listOf(s *Store, tx *bolt.Tx) func(fn func([]byte) (int, error)) (int, error) {
	if gen := snapshotGen(tx); gen != 0 {
		return func(fn func([]byte) (int, error)) (int, error) {
			n, err := readSnapshot(s.snapshotPath(gen), gen, fn)
			if err != nil {
				return n, fmt.Errorf("snapshot %d: %w", gen, err)
			}
			return n, nil
		}
	}
	return func(fn func([]byte) (int, error)) (int, error) {
		b := tx.Bucket(bucketDevices)
		if b == nil {
			return 0, nil
		}
		n := 0
		err := b.ForEach(func(_, chunk []byte) error {
			k, err := fn(chunk)
			n += k
			return err
		})
		return n, err
	}
}

// loadChunk adds a checked chunk's entries that keep accepts and that are
// neither journaled nor in c, and returns how many records it read and
// how many it added.
func (c *Cache) loadChunk(chunk []byte, keep func([]byte) bool, journaled map[string]struct{}) (int, int, error) {
	added := 0
	var memo profileMemo
	seen, err := eachStored(chunk, func(kb, rec []byte) error {
		if keep != nil {
			if !keep(rec) {
				return nil
			}
			if _, newer := journaled[string(kb)]; newer {
				return nil
			}
		}
		// The key and strings share the file's bytes; the record copies
		// the key and the memo interns copies of the strings.
		k, key, e, err := decodeStored(kb, rec)
		if err != nil {
			return err
		}
		if c.insertLoaded(k, key, &e, &memo) {
			added++
		}
		return nil
	})
	return seen, added, err
}

// StoreStatus describes the persistent list for `device-cache status` (DC-16).
type StoreStatus struct {
	Entries int
	SavedAt time.Time
}

// Status reports how many entries the file holds and when it was written.
func (s *Store) Status() (StoreStatus, error) {
	var st StoreStatus
	err := s.db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			if v := m.Get(keyCount); len(v) == 8 {
				st.Entries = int(binary.BigEndian.Uint64(v))
			}
			if v := m.Get(keySavedAt); len(v) == 8 {
				st.SavedAt = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			}
		}
		return nil
	})
	return st, err
}
