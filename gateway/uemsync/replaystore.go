package uemsync

import (
	"time"
)

// The replay memory (replay.go) lives in memory; with a persistent store
// every applied id is also written to the store's notifications bucket,
// so that a notification captured in the minutes before a restart and
// replayed after it is answered as applied, not applied again (a captured
// "allowed" replayed after the UEM blocked the device). Init reads the
// ids still inside their window back; the periodic write prunes the rest.
//
// The write is synchronous, one small bbolt transaction per applied
// notification, before the UEM is answered: the notification path is
// not hot, and an id written later could be lost by a crash in between.
// A failed write (the data directory full or read-only) does not undo or
// refuse the notification: its effect is applied and the id is still
// remembered in memory, so a replay before a restart is still caught.
// The failure is logged as an error, and every write retry (writeretry.go,
// at most every 10 s) and the shutdown write the whole in-window memory
// again until one succeeds; only a restart before then forgets the ids.

// storeSlack is the granularity of a stored window end (storedUntil).
const storeSlack = 30 * time.Second

// storedUntil is the window end written for one that ends at until in
// memory: rounded down to storeSlack, plus two, so at least storeSlack
// later. A redelivery (which moves the window in memory) rewrites the
// stored copy only when this changes: the stored window never ends before
// the one in memory, and a flood of replays writes each id at most once
// per storeSlack.
func storedUntil(until time.Time) time.Time { return until.Truncate(storeSlack).Add(2 * storeSlack) }

// storeNote writes one applied id with the end of its window.
func (l *Link) storeNote(id string, until time.Time) {
	if l.writer == nil {
		return
	}
	if err := l.writer.RememberNotifications(map[string]time.Time{id: storedUntil(until)}); err != nil {
		l.notesDue.Store(true)
		l.cfg.Log.Error("writing a notification id to the persistent list failed; retried, but a replay after a restart before then may be applied again", "error", err)
	}
}

// retryNotes writes the whole replay memory when a write of an id failed
// since the last success.
func (l *Link) retryNotes() {
	if l.writer == nil || !l.notesDue.Swap(false) {
		return
	}
	ids := l.notes.snapshot(l.cfg.Now())
	for id, until := range ids {
		ids[id] = storedUntil(until)
	}
	if err := l.writer.RememberNotifications(ids); err != nil {
		l.notesDue.Store(true)
		l.cfg.Log.Debug("writing the notification ids failed again", "error", err)
		return
	}
	l.cfg.Log.Info("wrote the notification ids after a failed write", "ids", len(ids))
}

// loadNotes takes the stored ids still inside their window into the
// replay memory and prunes the others from the store. It returns how many
// it took. An unreadable store is logged, not fatal: the gateway must
// start, but replays of what it applied before are then not recognised.
func (l *Link) loadNotes() int {
	now := l.cfg.Now()
	n := 0
	bad, err := l.cfg.Store.Notifications(now, func(id string, until time.Time) {
		// The latest end in memory storedUntil maps to until (within
		// storeSlack of it), so a redelivery rewrites when it moves on.
		n += l.notes.restore(id, until.Add(-storeSlack), now)
	})
	if err != nil || bad > 0 {
		l.cfg.Log.Error("notification ids from before the restart could not all be read; a replay of one within its window may be applied again",
			"read", n, "malformed", bad, "error", err)
	}
	l.pruneStoredNotes()
	return n
}

// pruneStoredNotes drops the stored ids whose window has ended, so the
// bucket stays bounded by the notification rate.
func (l *Link) pruneStoredNotes() {
	if l.cfg.Store == nil {
		return
	}
	if _, err := l.cfg.Store.PruneNotifications(l.cfg.Now()); err != nil {
		l.cfg.Log.Warn("pruning the stored notification ids failed", "error", err)
	}
}

// restore remembers an id read from the store until its window ends; an
// id remembered in memory already keeps the later end. It returns 1 when
// the id is remembered, 0 when its window has ended.
func (n *notifyIDs) restore(id string, until, now time.Time) int {
	if !now.Before(until) {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.init()
	if cur, ok := n.applied[id]; !ok || cur.Before(until) {
		n.applied[id] = until
	}
	return 1
}

// snapshot copies the ids whose window has not ended at now.
func (n *notifyIDs) snapshot(now time.Time) map[string]time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[string]time.Time, len(n.applied))
	for id, until := range n.applied {
		if now.Before(until) {
			out[id] = until
		}
	}
	return out
}
