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
	"sync/atomic"
	"time"
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
	// Reprovision is set while the device is kept out (blocked or wipe
	// pending) after its policy changed: it has not provisioned that
	// policy, so when the UEM allows it again it provisions first (P).
	Reprovision bool
	RedirectURL string
}

const shardCount = 256

// Cache is the in-memory device cache; it is safe for concurrent use.
type Cache struct {
	seeds    [3]maphash.Seed // device id, user, app
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
	c := &Cache{now: now}
	for i := range c.seeds {
		c.seeds[i] = maphash.MakeSeed()
	}
	for i := range c.shards {
		c.shards[i].reset(c.rehash)
	}
	return c
}

// locate returns k's shard and hash. The device id picks the shard, which
// spreads entries well (ids are random) and keeps every entry of one device
// in one shard; the fields are hashed with independent seeds, so swapping
// them does not collide.
func (c *Cache) locate(k Key) (*shard, uint64) {
	hd := maphash.String(c.seeds[0], k.DeviceID)
	h := hd ^ maphash.String(c.seeds[1], k.User)
	if k.App != "" {
		h ^= maphash.String(c.seeds[2], k.App)
	}
	return &c.shards[hd%shardCount], h
}

// rehash returns the hash locate gives r's key.
func (c *Cache) rehash(r *record) uint64 {
	k, _ := decodeKeyString(r.key()) // appendKey wrote every key
	_, h := c.locate(k)
	return h
}

// Get returns the entry for k.
func (c *Cache) Get(k Key) (Entry, bool) {
	s, h := c.locate(k)
	s.mu.RLock()
	r := s.find(h, k)
	var e Entry
	if r != nil {
		e = r.entry(k)
	}
	s.mu.RUnlock()
	return e, r != nil
}

// State returns only the state of k, without copying the entry: the check
// every proxied request makes.
func (c *Cache) State(k Key) (st State, validated, ok bool) {
	s, h := c.locate(k)
	s.mu.RLock()
	if r := s.find(h, k); r != nil {
		st, validated, ok = r.state, r.validated(), true
	}
	s.mu.RUnlock()
	return st, validated, ok
}

// Put stores e, replacing any entry with the same key.
func (c *Cache) Put(e Entry) {
	s, h := c.locate(e.Key)
	s.mu.Lock()
	r := s.find(h, e.Key)
	added := r == nil
	if added {
		r = newRecord(string(appendKey(nil, e.Key)))
		s.add(h, r)
	}
	r.set(&e)
	s.mu.Unlock()
	if added {
		c.grew()
	}
}

// Update applies fn to the entry for k under the shard's lock and stores
// the result. fn sees exists=false and a zero Entry (with Key set) when k is
// absent; returning false from fn leaves the cache unchanged.
func (c *Cache) Update(k Key, fn func(e *Entry, exists bool) bool) (Entry, bool) {
	s, h := c.locate(k)
	s.mu.Lock()
	r := s.find(h, k)
	exists := r != nil
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
		r = newRecord(string(appendKey(nil, k)))
		s.add(h, r)
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
	return c.TouchRequest(k, protocolVersion, true)
}

// TouchRequest is Touch for one request; the connection count (Cn) grows
// only when newConn says it is the device's first request on its
// connection: Cn counts connections, not requests.
func (c *Cache) TouchRequest(k Key, protocolVersion string, newConn bool) bool {
	now := c.now().UnixNano()
	s, h := c.locate(k)
	s.mu.Lock()
	r := s.find(h, k)
	ok := r != nil
	if ok {
		r.touch(now, protocolVersion, newConn)
	}
	s.mu.Unlock()
	return ok
}

// Delete removes k and reports whether it was present.
func (c *Cache) Delete(k Key) bool {
	s, h := c.locate(k)
	s.mu.Lock()
	ok := s.remove(h, k)
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
		n += s.n
		s.reset(c.rehash)
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

func (c *Cache) grew() { c.grewBy(1) }

// grewBy counts n entries added and updates the peak.
func (c *Cache) grewBy(n int) {
	if n == 0 {
		return
	}
	size := c.size.Add(int64(n))
	for {
		p := c.peak.Load()
		if size <= p {
			return
		}
		if c.peak.CompareAndSwap(p, size) {
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
		s.each(func(r *record) {
			if key, err := decodeKeyString(r.key()); err == nil { // appendKey wrote every key
				batch = append(batch, r.entry(key))
			}
		})
		s.mu.RUnlock()
		for _, e := range batch {
			if !fn(e) {
				return
			}
		}
	}
}

// insertLoaded adds a decoded entry under its encoded key unless the
// key is present, and reports whether it did; the caller counts the
// entries it added with grewBy, once. k and encoded may share memory the
// caller reuses: the record copies the key.
func (c *Cache) insertLoaded(k Key, encoded string, e *Entry, m *profileMemo) bool {
	s, h := c.locate(k)
	s.mu.Lock()
	exists := s.findEncoded(h, encoded) != nil
	if !exists {
		r := newRecord(encoded)
		r.setMemo(e, m)
		s.add(h, r)
	}
	s.mu.Unlock()
	return !exists
}

// reserve sizes every shard's table for n entries in all, so that loading
// them does not rehash the shards over and over as they grow.
func (c *Cache) reserve(n int) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for len(s.buckets) < n/shardCount {
			s.grow()
		}
		s.mu.Unlock()
	}
}
