package devicecache

// Snapshot remembers a set of entries as they were at one moment, so that
// a later pass removes only those that did not change meanwhile. A resync
// takes one before it asks the UEM for the device list: an entry written
// while the list was being fetched (a first access, a notification) is
// not on the list, and must not be taken for one the UEM removed.
type Snapshot struct {
	items []snapItem
}

type snapItem struct {
	rec  *record // identity: a removed and re-added entry is a new record
	mark decision
}

// decision is what "changed" means: the fields the UEM decides or the
// gateway derives from them. A device's own traffic (connections, last
// seen, protocol version) does not count.
type decision struct {
	state                         State
	wiped, validated, reprovision bool
	policy, policyVer, redirect   string
}

func (r *record) decision() decision {
	p := r.prof()
	return decision{
		state: r.state, wiped: r.wiped(), validated: r.validated(), reprovision: r.reprovision(),
		policy: p.policy, policyVer: p.policyVer, redirect: p.redirect,
	}
}

// Len returns the number of entries in the snapshot.
func (s *Snapshot) Len() int { return len(s.items) }

// Snapshot records every entry for which keep returns true.
func (c *Cache) Snapshot(keep func(Entry) bool) *Snapshot {
	snap := &Snapshot{}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		s.each(func(r *record) {
			k, err := decodeKeyString(r.key())
			if err == nil && keep(r.entry(k)) {
				snap.items = append(snap.items, snapItem{rec: r, mark: r.decision()})
			}
		})
		s.mu.RUnlock()
	}
	return snap
}

// DeleteUnchanged removes each entry of snap for which remove returns
// true, if it is still the same entry with the same decision, and returns
// how many it removed. An entry removed and added again since the
// snapshot, or updated to another decision, is kept.
func (c *Cache) DeleteUnchanged(snap *Snapshot, remove func(Key) bool) int {
	n := 0
	for _, it := range snap.items {
		k, err := decodeKeyString(it.rec.key()) // the key never changes
		if err != nil || !remove(k) {
			continue
		}
		s, h := c.locate(k)
		s.mu.Lock()
		cur := s.find(h, k)
		ok := cur == it.rec && cur.decision() == it.mark && s.remove(h, k)
		s.mu.Unlock()
		if ok {
			c.size.Add(-1)
			n++
		}
	}
	return n
}
