package chaos

import "time"

// brokenDuring reports whether the timeline was not ok at some time in
// [from, to].
func (h *health) brokenDuring(from, to time.Time) bool {
	for i, c := range h.changes {
		if c.ok {
			continue
		}
		end := time.Time{} // still broken
		if i+1 < len(h.changes) {
			end = h.changes[i+1].at
		}
		if !c.at.After(to) && (end.IsZero() || end.After(from)) {
			return true
		}
	}
	return false
}

// lastBrokenBefore is the last time before t the timeline was not ok
// (zero: never).
func (h *health) lastBrokenBefore(t time.Time) time.Time {
	var last time.Time
	for i, c := range h.changes {
		if c.ok || c.at.After(t) {
			continue
		}
		last = t
		if i+1 < len(h.changes) && h.changes[i+1].at.Before(t) {
			last = h.changes[i+1].at
		}
	}
	return last
}

// diskExcused reports whether the gateway may have lost fact f of device
// id across a restart before t because it could not write it: its data
// directory was full or read-only between the fact and the restart, the
// gateway logged the failed write of the device, and it had no stretch of
// writable disk (a connectivity check and the grace: the gateway retries
// a failed write on its next check) after the deadline and the disk's
// return before the restart.
func (o *oracle) diskExcused(f fact, id string, t time.Time) bool {
	dl, ok := o.deadline(f)
	if !ok || o.writeFailed == nil {
		return false
	}
	for _, r := range o.restarts {
		if !r.After(dl) || !r.Before(t) || !o.disk.brokenDuring(f.At, r) {
			continue
		}
		from := o.disk.lastBrokenBefore(r)
		if from.Before(dl) {
			from = dl
		}
		if by, ok := o.disk.learnBy(from, o.diskW); ok && by.Before(r) {
			continue // written by then
		}
		if o.writeFailed(id) {
			return true
		}
	}
	return false
}
