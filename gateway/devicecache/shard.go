package devicecache

import "sync"

// minBuckets is a shard's table size when empty.
const minBuckets = 16

// shard is a chained hash table from a key's 64-bit hash to its record,
// chained through record.next. The hash is computed once per lookup from
// the key's fields (no encoded copy of the key is built); the record holds
// the encoded key in the same allocation, so a lookup reads one bucket
// word and one record. Against a map[uint64]*record this saves the map's
// per-entry hash key, slot and control byte at its load factor, about a
// third of the memory per device at ten million (docs/performance.md).
type shard struct {
	mu      sync.RWMutex
	buckets []*record // length a power of two
	n       int
	// rehash recomputes a record's hash from its key when the table grows.
	rehash func(*record) uint64
}

// reset empties the shard.
func (s *shard) reset(rehash func(*record) uint64) {
	s.buckets, s.n, s.rehash = make([]*record, minBuckets), 0, rehash
}

func (s *shard) slot(h uint64) **record {
	// The low byte picked the shard (from the device id's hash, which h
	// includes), so the bucket index starts above it.
	return &s.buckets[(h>>8)&uint64(len(s.buckets)-1)]
}

// find returns k's record, or nil.
func (s *shard) find(h uint64, k Key) *record {
	r := *s.slot(h)
	for r != nil && !keyMatches(r.key(), k) {
		r = r.next
	}
	return r
}

// findEncoded returns the record whose encoded key is enc, or nil.
func (s *shard) findEncoded(h uint64, enc string) *record {
	r := *s.slot(h)
	for r != nil && r.key() != enc {
		r = r.next
	}
	return r
}

// add stores r, whose key is absent, under h, and doubles the table once
// it holds more records than buckets.
func (s *shard) add(h uint64, r *record) {
	b := s.slot(h)
	r.next = *b
	*b = r
	if s.n++; s.n > len(s.buckets) {
		s.grow()
	}
}

func (s *shard) grow() {
	old := s.buckets
	s.buckets = make([]*record, 2*len(old))
	for _, r := range old {
		for r != nil {
			next := r.next
			b := s.slot(s.rehash(r))
			r.next = *b
			*b = r
			r = next
		}
	}
}

// remove deletes k's record and reports whether it was present.
func (s *shard) remove(h uint64, k Key) bool {
	for p := s.slot(h); *p != nil; p = &(*p).next {
		if keyMatches((*p).key(), k) {
			*p = (*p).next
			s.n--
			return true
		}
	}
	return false
}

// each calls fn for every record of the shard.
func (s *shard) each(fn func(*record)) {
	for _, r := range s.buckets {
		for ; r != nil; r = r.next {
			fn(r)
		}
	}
}
