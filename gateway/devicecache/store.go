package devicecache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// Store is the persistent device list (DC-02): a bbolt file whose every
// write is one transaction, so a crash mid-write leaves the previous list
// intact and a known-blocked device can never come back as unknown.
type Store struct {
	db *bolt.DB
}

var (
	bucketDevices = []byte("devices")
	bucketMeta    = []byte("meta")
	// bucketJournal holds entries written one by one between full saves:
	// every state the UEM decided that must survive a crash (blocked,
	// wipe pending, wiped). A full save folds them in and empties it.
	bucketJournal = []byte("journal")
	keySavedAt    = []byte("saved-at")
	keyCount      = []byte("count")
)

// recordFormat is the first byte of every stored value; bump it when the
// layout changes so old files are refused instead of misread.
const recordFormat = 2

// OpenStore opens (creating if needed) the device list at path.
func OpenStore(path string) (*Store, error) {
	// A large initial mmap avoids remapping while a big list is written;
	// each remap makes bbolt copy every node it holds out of the old map.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, NoFreelistSync: true, InitialMmapSize: 1 << 30})
	if err != nil {
		return nil, fmt.Errorf("devicecache: open %s: %w", path, err)
	}
	return &Store{db: db}, nil
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
// Entries are written shard by shard, one bbolt value per shard holding
// that shard's records back to back, so that a million devices are 256
// puts of a few hundred kilobytes instead of a million small puts (and no
// global sort): about ten times faster, with the same all-or-nothing
// transaction.
func (s *Store) Save(c *Cache) (int, error) {
	chunks := make([][]byte, shardCount)
	total := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		buf := make([]byte, 0, sh.n*96)
		sh.each(func(r *record) {
			if !r.validated() || !r.state.Valid() {
				return // DC-17: only states the UEM decided
			}
			k := r.key()
			buf = binary.AppendUvarint(buf, uint64(len(k)))
			buf = append(buf, k...)
			n := len(buf)
			buf = append(buf, 0) // length placeholder, patched below when short
			buf = r.appendTo(buf)
			recLen := len(buf) - n - 1
			if recLen < 0x80 {
				buf[n] = byte(recLen)
			} else {
				// Rare (long redirect URLs): re-encode with a wider length.
				rec := append([]byte(nil), buf[n+1:]...)
				buf = binary.AppendUvarint(buf[:n], uint64(recLen))
				buf = append(buf, rec...)
			}
			total++
		})
		sh.mu.RUnlock()
		chunks[i] = buf
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketDevices, bucketJournal} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
		}
		b, err := tx.CreateBucket(bucketDevices)
		if err != nil {
			return err
		}
		b.FillPercent = 1.0
		for i, chunk := range chunks {
			if len(chunk) == 0 {
				continue
			}
			if err := b.Put(binary.BigEndian.AppendUint16(nil, uint16(i)), chunk); err != nil {
				return err
			}
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyCount, binary.BigEndian.AppendUint64(nil, uint64(total))); err != nil {
			return err
		}
		return meta.Put(keySavedAt, binary.BigEndian.AppendUint64(nil, uint64(c.now().UnixNano())))
	})
	if err != nil {
		return 0, fmt.Errorf("devicecache: save: %w", err)
	}
	return total, nil
}

// Journal writes one entry to disk at once, in its own transaction, for
// the decisions a crash must not lose: a device learnt to be blocked, to
// be wiped, or wiped, between two full saves. Entries the UEM did not
// decide are refused, as in Save.
func (s *Store) Journal(e Entry) error {
	if !Persistable(e) {
		return fmt.Errorf("devicecache: journal: entry %s/%s has no decided state", e.DeviceID, e.User)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketJournal)
		if err != nil {
			return err
		}
		return b.Put(encodeKey(e.Key), encodeRecord(e))
	})
	if err != nil {
		return fmt.Errorf("devicecache: journal: %w", err)
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
func (s *Store) load(c *Cache, keep func(rec []byte) bool) (int, error) {
	n := 0
	// With a filter, a journaled entry the filter refuses must still hide
	// the snapshot's older copy (a wipe forgotten since, by a Remove and a
	// new association); without one, insertIfAbsent does that.
	journaled := make(map[string]struct{})
	err := s.db.View(func(tx *bolt.Tx) error {
		// The journal is newer than the snapshot: load it first, so that
		// the snapshot's older copy of an entry is not taken.
		if j := tx.Bucket(bucketJournal); j != nil {
			err := j.ForEach(func(k, v []byte) error {
				if keep != nil {
					journaled[string(k)] = struct{}{}
					if !keep(v) {
						return nil
					}
				}
				key, err := decodeKey(k)
				if err != nil {
					return err
				}
				e, err := decodeRecord(Key{}, v)
				if err != nil {
					return fmt.Errorf("journal entry %q: %w", key.DeviceID, err)
				}
				if c.insertIfAbsent(key, string(k), &e, nil) {
					n++
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("devicecache: load: %w", err)
			}
		}
		b := tx.Bucket(bucketDevices)
		if b == nil {
			return nil
		}
		if m := tx.Bucket(bucketMeta); m != nil && keep == nil {
			if v := m.Get(keyCount); len(v) == 8 && binary.BigEndian.Uint64(v) < 1<<40 {
				c.reserve(c.Len() + int(binary.BigEndian.Uint64(v)))
			}
		}
		var memo profileMemo
		return b.ForEach(func(_, chunk []byte) error {
			for len(chunk) > 0 {
				kl, w := binary.Uvarint(chunk)
				if w <= 0 || kl > uint64(len(chunk)-w) {
					return fmt.Errorf("devicecache: load: key length: %w", errCorrupt)
				}
				kb := chunk[w : w+int(kl)]
				chunk = chunk[w+int(kl):]
				rl, w := binary.Uvarint(chunk)
				if w <= 0 || rl > uint64(len(chunk)-w) {
					return fmt.Errorf("devicecache: load: record length: %w", errCorrupt)
				}
				rec := chunk[w : w+int(rl)]
				chunk = chunk[w+int(rl):]
				if keep != nil {
					if !keep(rec) {
						continue
					}
					if _, newer := journaled[string(kb)]; newer {
						continue
					}
				}
				// The key shares the mapped file's bytes; the record copies it.
				key := unsafe.String(unsafe.SliceData(kb), len(kb))
				k, err := decodeKeyString(key)
				if err != nil {
					return fmt.Errorf("devicecache: load: %w", err)
				}
				// Its strings share the file too: the memo interns copies.
				e, err := decodeRecordShared(rec)
				if err != nil {
					return fmt.Errorf("devicecache: load: entry %q: %w", k.DeviceID, err)
				}
				if c.insertIfAbsent(k, key, &e, &memo) {
					n++
				}
			}
			return nil
		})
	})
	return n, err
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

// encodeKey writes the three key fields length-prefixed, ActiveSync
// entries first (their App is empty).
func encodeKey(k Key) []byte { return appendKey(nil, k) }

func appendKey(b []byte, k Key) []byte {
	for _, f := range [3]string{k.App, k.DeviceID, k.User} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// keyMatches reports whether enc is appendKey's encoding of k, without
// building that encoding: the lookup path compares in place.
func keyMatches(enc string, k Key) bool {
	for _, f := range [3]string{k.App, k.DeviceID, k.User} {
		n := len(f)
		for ; n >= 0x80; n >>= 7 {
			if len(enc) == 0 || enc[0] != byte(n)|0x80 {
				return false
			}
			enc = enc[1:]
		}
		if len(enc) <= len(f) || enc[0] != byte(n) || enc[1:1+len(f)] != f {
			return false
		}
		enc = enc[1+len(f):]
	}
	return len(enc) == 0
}

var errCorrupt = errors.New("corrupt record")

func readString(b []byte) (string, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return "", nil, errCorrupt
	}
	return string(b[w : w+int(n)]), b[w+int(n):], nil
}

// decodeKeyString decodes a key held as a string, sharing its bytes.
func decodeKeyString(s string) (Key, error) {
	var k Key
	for _, f := range []*string{&k.App, &k.DeviceID, &k.User} {
		var n uint64
		var shift uint
		i := 0
		for ; ; i++ {
			if i >= len(s) || i > 9 {
				return k, fmt.Errorf("key: %w", errCorrupt)
			}
			n |= uint64(s[i]&0x7F) << shift
			shift += 7
			if s[i] < 0x80 {
				break
			}
		}
		s = s[i+1:]
		if n > uint64(len(s)) {
			return k, fmt.Errorf("key: %w", errCorrupt)
		}
		*f, s = s[:n], s[n:]
	}
	if len(s) != 0 {
		return k, fmt.Errorf("key: %w", errCorrupt)
	}
	return k, nil
}

func decodeKey(b []byte) (Key, error) {
	var k Key
	var err error
	for _, f := range []*string{&k.App, &k.DeviceID, &k.User} {
		if *f, b, err = readString(b); err != nil {
			return k, fmt.Errorf("key: %w", err)
		}
	}
	if len(b) != 0 {
		return k, fmt.Errorf("key: %w", errCorrupt)
	}
	return k, nil
}

// Record flags. A flag added later reads as unset in older files, so it
// needs no new recordFormat.
const (
	flagWiped       = 1 << 0
	flagValidated   = 1 << 1
	flagReprovision = 1 << 2
)

func encodeRecord(e Entry) []byte { return appendRecord(nil, e) }

func appendRecord(b []byte, e Entry) []byte {
	var flags byte
	if e.Wiped {
		flags |= flagWiped
	}
	if e.Validated {
		flags |= flagValidated
	}
	if e.Reprovision {
		flags |= flagReprovision
	}
	b = append(b, recordFormat, byte(e.State), flags)
	b = binary.AppendUvarint(b, uint64(e.Connections))
	var seen int64
	if !e.LastSeen.IsZero() {
		seen = e.LastSeen.UnixNano()
	}
	b = binary.AppendVarint(b, seen)
	for _, f := range [4]string{e.ProtocolVersion, e.Policy, e.PolicyVersion, e.RedirectURL} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func decodeRecord(k Key, b []byte) (Entry, error) { return decodeRecordOpt(k, b, readString) }

// decodeRecordShared decodes a record whose strings share b's memory: for
// a caller that copies what it keeps before b is reused.
func decodeRecordShared(b []byte) (Entry, error) {
	return decodeRecordOpt(Key{}, b, func(b []byte) (string, []byte, error) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return "", nil, errCorrupt
		}
		return unsafe.String(unsafe.SliceData(b[w:]), int(n)), b[w+int(n):], nil
	})
}

func decodeRecordOpt(k Key, b []byte, readString func([]byte) (string, []byte, error)) (Entry, error) {
	e := Entry{Key: k}
	if len(b) < 3 || b[0] != recordFormat {
		return e, fmt.Errorf("%w: unknown format", errCorrupt)
	}
	e.State = State(b[1])
	if !e.State.Valid() {
		return e, fmt.Errorf("%w: state %q", errCorrupt, b[1])
	}
	e.Wiped, e.Validated, e.Reprovision = b[2]&flagWiped != 0, b[2]&flagValidated != 0, b[2]&flagReprovision != 0
	b = b[3:]
	conns, w := binary.Uvarint(b)
	if w <= 0 || conns > 1<<32-1 {
		return e, errCorrupt
	}
	e.Connections, b = uint32(conns), b[w:]
	seen, w := binary.Varint(b)
	if w <= 0 {
		return e, errCorrupt
	}
	if b = b[w:]; seen != 0 {
		e.LastSeen = time.Unix(0, seen).UTC()
	}
	var err error
	for _, f := range []*string{&e.ProtocolVersion, &e.Policy, &e.PolicyVersion, &e.RedirectURL} {
		if *f, b, err = readString(b); err != nil {
			return e, err
		}
	}
	if len(b) != 0 {
		return e, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(b))
	}
	return e, nil
}

// appendTo encodes the record in the stored form.
func (r *record) appendTo(b []byte) []byte {
	return appendRecord(b, r.entry(Key{}))
}
