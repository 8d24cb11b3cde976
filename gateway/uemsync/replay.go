package uemsync

import (
	"errors"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// DefaultMaxNotificationIDs bounds the notification ids remembered
// against replay (about 70 bytes each): 2^18 ids is some 18 MiB and
// allows 430 notifications a second, sustained over the replay window.
const DefaultMaxNotificationIDs = 1 << 18

// replayWindow is how long an applied notification's id is remembered
// after it was last seen: a signed request is accepted while its
// timestamp is within uemapi.DefaultSkew of now, so one accepted now
// verifies for at most two skews more. Forgetting earlier would let a
// captured "allowed" be replayed after a later "blocked".
const replayWindow = 2 * uemapi.DefaultSkew

// Errors of beginning a notification (the receiver's answer in brackets).
var (
	// ErrNotificationInFlight: the same id is being applied (409); the
	// UEM's retry comes back later.
	ErrNotificationInFlight = errors.New("uemsync: a notification with this id is being applied")
	// ErrTooManyNotifications: the replay memory is full (503). Ids are
	// never forgotten early to make room, since that reopens replay.
	ErrTooManyNotifications = errors.New("uemsync: too many recent notifications to remember; retry later")
)

// notifyIDs remembers the ids of applied notifications until their
// replay window ends, bounded by time (pruned as they expire), with a
// hard cap on how many it holds. The zero value is ready for use.
type notifyIDs struct {
	mu      sync.Mutex
	applied map[string]time.Time // id → end of its replay window
	busy    map[string]bool      // ids being applied now
	pruned  time.Time
}

// begin reserves id for applying at now. dup reports an id applied
// within its window (refreshed: the redelivery is answered as applied,
// and nothing is applied again); rewrite then says the refresh moved the
// stored copy's window end (storedUntil, replaystore.go). Otherwise the
// caller applies the notification and calls end.
func (n *notifyIDs) begin(id string, now time.Time, max int) (dup, rewrite bool, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.init()
	if until, ok := n.applied[id]; ok && now.Before(until) {
		n.applied[id] = now.Add(replayWindow)
		return true, !storedUntil(until).Equal(storedUntil(now.Add(replayWindow))), nil
	}
	if n.busy[id] {
		return false, false, ErrNotificationInFlight
	}
	if now.Sub(n.pruned) >= time.Second || now.Before(n.pruned) || len(n.applied)+len(n.busy) >= max {
		n.prune(now)
	}
	if len(n.applied)+len(n.busy) >= max {
		return false, false, ErrTooManyNotifications
	}
	n.busy[id] = true
	return false, false, nil
}

// init makes the maps on first use; n.mu is held.
func (n *notifyIDs) init() {
	if n.applied == nil {
		n.applied, n.busy = map[string]time.Time{}, map[string]bool{}
	}
}

// end releases id; applied records it for its replay window, whose end
// it returns, otherwise (the notification failed) a retry of the same id
// is applied again.
func (n *notifyIDs) end(id string, now time.Time, applied bool) (until time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.busy, id)
	if applied {
		until = now.Add(replayWindow)
		n.applied[id] = until
	}
	return until
}

// prune drops the ids whose window has ended; n.mu is held. At most
// once a second unless the cap is reached, so a busy receiver does not
// scan the map on every notification.
//
// A window ending more than a window after now was set before the clock
// went back: it restarts now on the new clock, or the ids would hold
// their slots (and, the memory full, refuse every notification) for as
// long as the clock was moved back.
func (n *notifyIDs) prune(now time.Time) {
	n.pruned = now
	for id, until := range n.applied {
		switch {
		case !now.Before(until):
			delete(n.applied, id)
		case until.Sub(now) > replayWindow:
			n.applied[id] = now.Add(replayWindow)
		}
	}
}

// size is how many ids are held (applied or in flight).
func (n *notifyIDs) size() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.applied) + len(n.busy)
}
