package devicecache

import (
	"strings"
	"time"
	"unique"
	"unsafe"
)

// record is the stored form of an entry: this fixed 32-byte header and,
// in the same allocation right after it, the encoded key (appendKey). One
// allocation per device instead of a record and a key string, and the
// strings that repeat across millions of devices (protocol version,
// policy, policy version, redirect) share one interned profile handle:
// about 96 bytes a device where the record, its key and three handles
// took 144 (BenchmarkMemoryPerDevice, docs/performance.md).
type record struct {
	next        *record // another key with the same 64-bit hash (rare)
	profile     unique.Handle[profile]
	lastSeen    int64 // unix nanoseconds; 0 for never
	connections uint32
	state       State
	flags       uint8
	// keyLen is the length of the key after the header, or 0 for a
	// recordOut (an encoded key is never empty). Never written after
	// newRecord, so key reads it without the shard's lock (DeleteUnchanged).
	keyLen uint16
}

const (
	recWiped       = 1 << 0
	recValidated   = 1 << 1
	recReprovision = 1 << 2
)

const recordSize = unsafe.Sizeof(record{})

// profile is what a record shares with many others.
type profile struct {
	version, policy, policyVer, redirect string
}

// recordOut holds a key longer than the largest inline size.
type recordOut struct {
	record
	key string
}

// Inline sizes: a header and a key that together fill one of the
// runtime's size classes (64, 80, 96, 112, 128, 160, 192, 256 bytes).
type (
	rec32 struct {
		record
		key [32]byte
	}
	rec48 struct {
		record
		key [48]byte
	}
	rec64 struct {
		record
		key [64]byte
	}
	rec80 struct {
		record
		key [80]byte
	}
	rec96 struct {
		record
		key [96]byte
	}
	rec128 struct {
		record
		key [128]byte
	}
	rec160 struct {
		record
		key [160]byte
	}
	rec224 struct {
		record
		key [224]byte
	}
)

// newRecord returns a zero record holding a copy of the encoded key enc.
func newRecord(enc string) *record {
	switch n := len(enc); {
	case n <= 32:
		return inline[rec32](enc)
	case n <= 48:
		return inline[rec48](enc)
	case n <= 64:
		return inline[rec64](enc)
	case n <= 80:
		return inline[rec80](enc)
	case n <= 96:
		return inline[rec96](enc)
	case n <= 128:
		return inline[rec128](enc)
	case n <= 160:
		return inline[rec160](enc)
	case n <= 224:
		return inline[rec224](enc)
	}
	// A copy: enc may share a buffer the caller reuses (Load's blocks).
	return &(&recordOut{key: strings.Clone(enc)}).record
}

// inline allocates a T (a record followed by a byte array at least as
// long as enc) and copies enc after the header.
func inline[T any](enc string) *record {
	p := unsafe.Pointer(new(T))
	copy(unsafe.Slice((*byte)(unsafe.Add(p, recordSize)), len(enc)), enc)
	r := (*record)(p)
	r.keyLen = uint16(len(enc))
	return r
}

// key returns the encoded key. It shares the record's memory, which is
// never written after newRecord, so it stays valid as long as it is held.
func (r *record) key() string {
	if r.keyLen == 0 {
		return (*recordOut)(unsafe.Pointer(r)).key
	}
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(r), recordSize)), int(r.keyLen))
}

func (r *record) wiped() bool       { return r.flags&recWiped != 0 }
func (r *record) validated() bool   { return r.flags&recValidated != 0 }
func (r *record) reprovision() bool { return r.flags&recReprovision != 0 }

// prof returns the shared strings; the zero handle stands for all empty.
func (r *record) prof() profile {
	if r.profile == (unique.Handle[profile]{}) {
		return profile{}
	}
	return r.profile.Value()
}

func (r *record) setProfile(p profile) {
	if p == (profile{}) {
		r.profile = unique.Handle[profile]{}
		return
	}
	r.profile = unique.Make(p)
}

func (r *record) entry(k Key) Entry {
	p := r.prof()
	e := Entry{
		Key: k, State: r.state, Wiped: r.wiped(), Validated: r.validated(), Reprovision: r.reprovision(),
		Connections: r.connections, ProtocolVersion: p.version,
		Policy: p.policy, PolicyVersion: p.policyVer, RedirectURL: p.redirect,
	}
	if r.lastSeen != 0 {
		e.LastSeen = time.Unix(0, r.lastSeen).UTC()
	}
	return e
}

func (r *record) set(e *Entry) { r.setMemo(e, nil) }

// setMemo is set with a memo of the last profile interned (nil: none), for
// loops that set millions of records sharing a few profiles.
func (r *record) setMemo(e *Entry, m *profileMemo) {
	r.state = e.State
	r.flags = 0
	if e.Wiped {
		r.flags |= recWiped
	}
	if e.Validated {
		r.flags |= recValidated
	}
	if e.Reprovision {
		r.flags |= recReprovision
	}
	r.connections = e.Connections
	r.lastSeen = 0
	if !e.LastSeen.IsZero() {
		r.lastSeen = e.LastSeen.UnixNano()
	}
	p := profile{e.ProtocolVersion, e.Policy, e.PolicyVersion, e.RedirectURL}
	switch {
	case m != nil:
		r.profile = m.handle(p)
	case r.prof() != p:
		r.setProfile(p)
	}
}

// profileMemo remembers the last profile interned. Its strings are the
// interned copies, so the profiles it is given may share memory that is
// reused afterwards (a mapped file being read).
type profileMemo struct {
	p profile
	h unique.Handle[profile]
}

func (m *profileMemo) handle(p profile) unique.Handle[profile] {
	if p == (profile{}) {
		return unique.Handle[profile]{}
	}
	if m.h == (unique.Handle[profile]{}) || p != m.p {
		m.h = unique.Make(p) // clones p's strings
		m.p = m.h.Value()
	}
	return m.h
}

// touch records one request: see Cache.Touch.
func (r *record) touch(now int64, protocolVersion string, newConn bool) {
	if newConn {
		r.connections++
	}
	r.lastSeen = now
	if protocolVersion == "" {
		return
	}
	if p := r.prof(); p.version != protocolVersion {
		p.version = protocolVersion
		r.setProfile(p)
	}
}
