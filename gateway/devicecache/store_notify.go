package devicecache

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketNotifications holds the ids of the UEM notifications the gateway
// applied, each with the end of its replay window (8 bytes, Unix
// nanoseconds, big-endian), so that a notification captured before a
// restart and replayed after it is recognised as already applied (the
// UEM link's replay memory, gateway/uemsync/replay.go). Full saves leave
// it alone; ids past their window are dropped on load and pruned.
var bucketNotifications = []byte("notifications")

// RememberNotifications writes each id with the end of its replay window,
// all in one transaction (one fsync).
func (s *Store) RememberNotifications(ids map[string]time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketNotifications)
		if err != nil {
			return err
		}
		for id, until := range ids {
			if err := b.Put([]byte(id), binary.BigEndian.AppendUint64(nil, uint64(until.UnixNano()))); err != nil {
				return fmt.Errorf("id %q: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("devicecache: remember notifications: %w", err)
	}
	return nil
}

// Notifications calls fn with every stored id whose window ends after
// now, and returns how many records it skipped as malformed (a value
// that is not 8 bytes, a nested bucket). An absent bucket is empty.
func (s *Store) Notifications(now time.Time, fn func(id string, until time.Time)) (malformed int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotifications)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			until, ok := notificationUntil(v)
			switch {
			case !ok:
				malformed++
			case until.After(now):
				fn(string(k), until)
			}
			return nil
		})
	})
	if err != nil {
		return malformed, fmt.Errorf("devicecache: notifications: %w", err)
	}
	return malformed, nil
}

// PruneNotifications deletes the ids whose window ended by now, and
// malformed records, and returns how many it deleted.
func (s *Store) PruneNotifications(now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotifications)
		if b == nil {
			return nil
		}
		var stale, nested [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if v == nil {
				nested = append(nested, append([]byte(nil), k...))
			} else if until, ok := notificationUntil(v); !ok || !until.After(now) {
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		for _, k := range nested {
			if err := b.DeleteBucket(k); err != nil {
				return err
			}
		}
		n = len(stale) + len(nested)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("devicecache: prune notifications: %w", err)
	}
	return n, nil
}

// notificationUntil decodes a stored window end; ok is false for a
// malformed record.
func notificationUntil(v []byte) (time.Time, bool) {
	if len(v) != 8 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))), true
}
