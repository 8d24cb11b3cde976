package devicecache

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The notification ids: written, read back while inside their window,
// pruned after it; malformed records are skipped, counted and pruned;
// a full save leaves them alone.
func TestStoreNotificationIDs(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "devices.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	read := func(at time.Time) (map[string]time.Time, int) {
		got := map[string]time.Time{}
		bad, err := s.Notifications(at, func(id string, until time.Time) { got[id] = until })
		if err != nil {
			t.Fatal(err)
		}
		return got, bad
	}
	if got, bad := read(now); len(got) != 0 || bad != 0 { // no bucket yet
		t.Fatalf("empty store: %v %d", got, bad)
	}
	err = s.RememberNotifications(map[string]time.Time{"old": now.Add(-time.Second), "new": now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(New(func() time.Time { return now })); err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotifications)
		if err := b.Put([]byte("short"), []byte{1}); err != nil {
			return err
		}
		_, err := b.CreateBucket([]byte("nested"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, bad := read(now)
	if len(got) != 1 || !got["new"].Equal(now.Add(time.Minute)) || bad != 2 {
		t.Fatalf("read %v, %d malformed; want only new, 2 malformed", got, bad)
	}
	if n, err := s.PruneNotifications(now); err != nil || n != 3 {
		t.Fatalf("pruned %d, %v; want old and the 2 malformed", n, err)
	}
	if got, bad := read(time.Time{}); len(got) != 1 || bad != 0 {
		t.Fatalf("after pruning: %v %d", got, bad)
	}
}
