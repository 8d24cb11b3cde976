// Package devicecache holds the gateway's device cache: one entry per
// (device id, user) for ActiveSync and per (user, app, device) for
// AppTunnel, with the state the UEM decided, and its persistent copy.
//
// The cache never evicts an ActiveSync entry (DEF-04): forgetting that a
// device is blocked would let it in again, so size is bounded only by the
// fleet. Lookups are sharded like CoreDNS's cache so that request handlers
// on many cores rarely wait on each other.
package devicecache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
	"unique"
)

// State is the tunnel state the device-cache commands print (DC-07).
type State uint8

const (
	Allowed       State = 'A'
	Blocked       State = 'B'
	PolicyPending State = 'P'
	WipePending   State = 'W'
)

// String returns the letter and name the CLI legend uses, e.g. "A:Allowed".
func (s State) String() string {
	switch s {
	case Allowed:
		return "A:Allowed"
	case Blocked:
		return "B:Blocked"
	case PolicyPending:
		return "P:Policy Pending"
	case WipePending:
		return "W:Wipe Pending"
	}
	return "?:Unknown"
}

// Valid reports whether s is one of the four states.
func (s State) Valid() bool {
	return s == Allowed || s == Blocked || s == PolicyPending || s == WipePending
}

// Key identifies an entry. App is empty for ActiveSync entries and names
// the app for AppTunnel entries (SCOPE-10).
type Key struct {
	DeviceID string
	User     string
	App      string
}

// ActiveSync reports whether the key is an ActiveSync entry.
func (k Key) ActiveSync() bool { return k.App == "" }

// Entry is a copy of one cache entry.
type Entry struct {
	Key
	State State
	// Wiped is set once the device acknowledged a remote wipe; the entry
	// then stays blocked until the UEM removes the association.
	Wiped bool
	// Validated is the EMM validation state (Vs): true once the UEM has
	// decided on this entry, false while it was let in by fail-open.
	Validated       bool
	Connections     uint32
	ProtocolVersion string
	LastSeen        time.Time
	// Policy names the ActiveSync policy the UEM assigned ("" for none:
	// the Default ActiveSync Policy behaviour applies), and PolicyVersion
	// changes whenever its content does, so a device can be re-provisioned.
	Policy        string
	PolicyVersion string
	RedirectURL   string
}

// record is the stored form of an entry. Strings that repeat across
// millions of devices (policy names, versions) are interned handles.
type record struct {
	state       State
	wiped       bool
	validated   bool
	connections uint32
	lastSeen    int64 // unix nanoseconds; 0 for never
	version     unique.Handle[string]
	policy      unique.Handle[string]
	policyVer   unique.Handle[string]
	redirect    string
}

const shardCount = 256

// keyBuf is the stack buffer for encoding a key; longer keys (rare: ids
// are tens of bytes) spill to the heap.
const keyBuf = 160

// shard maps the encoded key (see appendKey) to its record. One string
// per entry instead of three keeps both the memory and the cache misses
// of a lookup down: the hash and the comparison each read one buffer.
type shard struct {
	mu sync.RWMutex
	m  map[string]*record
}

// Cache is the in-memory device cache; it is safe for concurrent use.
type Cache struct {
	seed     maphash.Seed
	shards   [shardCount]shard
	size     atomic.Int64
	peak     atomic.Int64
	peakTime atomic.Int64 // unix nanoseconds
	now      func() time.Time
}

// New returns an empty cache. now is the clock (time.Now when nil).
func New(now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	c := &Cache{seed: maphash.MakeSeed(), now: now}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*record)
	}
	return c
}

func (c *Cache) shard(k Key) *shard {
	// Hashing the device id alone spreads entries well (ids are random) and
	// keeps every entry of one device in one shard.
	return &c.shards[maphash.String(c.seed, k.DeviceID)%shardCount]
}

func intern(s string) unique.Handle[string] {
	if s == "" {
		return unique.Handle[string]{}
	}
	return unique.Make(s)
}

// str returns the handle's string; the zero handle stands for "".
func str(h unique.Handle[string]) string {
	if h == (unique.Handle[string]{}) {
		return ""
	}
	return h.Value()
}

func (r *record) entry(k Key) Entry {
	e := Entry{
		Key: k, State: r.state, Wiped: r.wiped, Validated: r.validated,
		Connections: r.connections, ProtocolVersion: str(r.version),
		Policy: str(r.policy), PolicyVersion: str(r.policyVer), RedirectURL: r.redirect,
	}
	if r.lastSeen != 0 {
		e.LastSeen = time.Unix(0, r.lastSeen).UTC()
	}
	return e
}

func (r *record) set(e *Entry) {
	r.state, r.wiped, r.validated = e.State, e.Wiped, e.Validated
	r.connections = e.Connections
	r.lastSeen = 0
	if !e.LastSeen.IsZero() {
		r.lastSeen = e.LastSeen.UnixNano()
	}
	if str(r.version) != e.ProtocolVersion {
		r.version = intern(e.ProtocolVersion)
	}
	if str(r.policy) != e.Policy {
		r.policy = intern(e.Policy)
	}
	if str(r.policyVer) != e.PolicyVersion {
		r.policyVer = intern(e.PolicyVersion)
	}
	r.redirect = e.RedirectURL
}

// Get returns the entry for k.
func (c *Cache) Get(k Key) (Entry, bool) {
	s := c.shard(k)
	var buf [keyBuf]byte
	kb := appendKey(buf[:0], k)
	s.mu.RLock()
	r, ok := s.m[string(kb)]
	var e Entry
	if ok {
		e = r.entry(k)
	}
	s.mu.RUnlock()
	return e, ok
}

// State returns only the state of k, without copying the entry: the check
// every proxied request makes.
func (c *Cache) State(k Key) (st State, validated, ok bool) {
	s := c.shard(k)
	var buf [keyBuf]byte
	kb := appendKey(buf[:0], k)
	s.mu.RLock()
	if r, found := s.m[string(kb)]; found {
		st, validated, ok = r.state, r.validated, true
	}
	s.mu.RUnlock()
	return st, validated, ok
}

// Put stores e, replacing any entry with the same key.
func (c *Cache) Put(e Entry) {
	s := c.shard(e.Key)
	var buf [keyBuf]byte
	kb := appendKey(buf[:0], e.Key)
	s.mu.Lock()
	r, ok := s.m[string(kb)]
	if !ok {
		r = &record{}
		s.m[string(kb)] = r
	}
	r.set(&e)
	s.mu.Unlock()
	if !ok {
		c.grew()
	}
}

// Update applies fn to the entry for k under the shard's lock and stores
// the result. fn sees exists=false and a zero Entry (with Key set) when k is
// absent; returning false from fn leaves the cache unchanged.
func (c *Cache) Update(k Key, fn func(e *Entry, exists bool) bool) (Entry, bool) {
	s := c.shard(k)
	var buf [keyBuf]byte
	kb := appendKey(buf[:0], k)
	s.mu.Lock()
	r, exists := s.m[string(kb)]
	e := Entry{Key: k}
	if exists {
		e = r.entry(k)
	}
	if !fn(&e, exists) {
		s.mu.Unlock()
		return e, false
	}
	e.Key = k
	if !exists {
		r = &record{}
		s.m[string(kb)] = r
	}
	r.set(&e)
	s.mu.Unlock()
	if !exists {
		c.grew()
	}
	return e, true
}

// Touch records one request from the device: connection count, protocol
// version and last-seen time. It reports whether the entry exists.
func (c *Cache) Touch(k Key, protocolVersion string) bool {
	now := c.now().UnixNano()
	s := c.shard(k)
	var buf [keyBuf]byte
	kb := appendKey(buf[:0], k)
	s.mu.Lock()
	r, ok := s.m[string(kb)]
	if ok {
		r.connections++
		r.lastSeen = now
		if protocolVersion != "" && str(r.version) != protocolVersion {
			r.version = intern(protocolVersion)
		}
	}
	s.mu.Unlock()
	return ok
}

// Delete removes k and reports whether it was present.
func (c *Cache) Delete(k Key) bool {
	s := c.shard(k)
	var buf [keyBuf]byte
	kb := appendKey(buf[:0], k)
	s.mu.Lock()
	_, ok := s.m[string(kb)]
	delete(s.m, string(kb))
	s.mu.Unlock()
	if ok {
		c.size.Add(-1)
	}
	return ok
}

// Purge empties the cache and returns how many entries it held (DC-21).
func (c *Cache) Purge() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.m = make(map[string]*record)
		s.mu.Unlock()
	}
	c.size.Add(int64(-n))
	return n
}

// Len returns the number of entries.
func (c *Cache) Len() int { return int(c.size.Load()) }

// Peak returns the largest size the cache reached and when (DC-23).
func (c *Cache) Peak() (int, time.Time) {
	t := c.peakTime.Load()
	if t == 0 {
		return int(c.peak.Load()), time.Time{}
	}
	return int(c.peak.Load()), time.Unix(0, t).UTC()
}

func (c *Cache) grew() {
	n := c.size.Add(1)
	for {
		p := c.peak.Load()
		if n <= p {
			return
		}
		if c.peak.CompareAndSwap(p, n) {
			c.peakTime.Store(c.now().UnixNano())
			return
		}
	}
}

// Range calls fn for every entry, one shard at a time, until fn returns
// false. Entries added or removed meanwhile may or may not be seen; each
// shard is copied out first so fn may call back into the cache.
func (c *Cache) Range(fn func(Entry) bool) {
	var batch []Entry
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		batch = batch[:0]
		for k, r := range s.m {
			key, err := decodeKeyString(k)
			if err != nil {
				continue // every key was written by appendKey
			}
			batch = append(batch, r.entry(key))
		}
		s.mu.RUnlock()
		for _, e := range batch {
			if !fn(e) {
				return
			}
		}
	}
}

// insertIfAbsent adds a decoded record under its encoded key unless the
// key is present, and reports whether it did.
func (c *Cache) insertIfAbsent(k Key, encoded string, r *record) bool {
	s := c.shard(k)
	s.mu.Lock()
	_, exists := s.m[encoded]
	if !exists {
		s.m[encoded] = r
	}
	s.mu.Unlock()
	if !exists {
		c.grew()
	}
	return !exists
}
