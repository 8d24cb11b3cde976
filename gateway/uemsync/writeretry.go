package uemsync

import (
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
)

// storeWriter is where the link writes the persistent device list: the
// *devicecache.Store (a test puts a failing one in front of it).
type storeWriter interface {
	Journal(e devicecache.Entry) error
	Save(c *devicecache.Cache) (int, error)
	RememberNotifications(ids map[string]time.Time) error
}

// writeFailed notes that the persistent list is behind the cache: a
// journal entry or a save failed (the data directory full or read-only).
// A block learnt then survives a crash only once it is written, so Run
// retries the whole list every retryWriteInterval until a write succeeds,
// rather than waiting for the next periodic save (5 min by default).
func (l *Link) writeFailed() { l.writeDue.Store(true) }

// retryWrite writes the list when a write failed since the last success,
// and the notification ids likewise (replaystore.go).
func (l *Link) retryWrite() {
	l.retryNotes()
	if l.cfg.Store == nil || !l.writeDue.Swap(false) {
		return
	}
	n, err := l.Persist()
	if err != nil {
		l.writeDue.Store(true) // a journal failing meanwhile set it too
		l.cfg.Log.Debug("writing the persistent device list failed again", "error", err)
		return
	}
	l.cfg.Log.Info("wrote the persistent device list after a failed write", "devices", n)
}

// retryWriteInterval is how often Run retries a failed write: the
// connectivity check's interval, at most 10 s.
func (l *Link) retryWriteInterval() time.Duration {
	return min(l.cfg.CheckInterval, minPersistInterval)
}
