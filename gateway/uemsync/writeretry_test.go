package uemsync

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// failingWriter is the store behind a data directory that is full or
// read-only while fail is set.
type failingWriter struct {
	*devicecache.Store
	fail atomic.Bool
}

var errNoSpace = errors.New("no space left on device")

func (w *failingWriter) Journal(e devicecache.Entry) error {
	if w.fail.Load() {
		return errNoSpace
	}
	return w.Store.Journal(e)
}

func (w *failingWriter) Save(c *devicecache.Cache) (int, error) {
	if w.fail.Load() {
		return 0, errNoSpace
	}
	return w.Store.Save(c)
}

// DC-02/DC-03 with a full data directory: a block learnt while the
// journal cannot be written is written as soon as the disk takes it
// again (at the next retry, every check interval), not at the next
// periodic save, so a crash after the disk's return keeps it (found by
// gatehouse chaos with the disk faults: chaos/testdata/disk-full-write-retried.yaml).
func TestDC03_ABlockJournaledOnAFullDiskIsWrittenOnceTheDiskTakesIt(t *testing.T) {
	g := gomega.NewWithT(t)
	store, err := devicecache.OpenStore(filepath.Join(t.TempDir(), "devices.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u := uemsynctest.New()
	u.Set("B0", "u", uemapi.StateAllowed, "")
	c := devicecache.New(nil)
	l, err := New(Config{UEM: u, Cache: c, Store: store, FailOpen: true, CheckInterval: 20 * time.Millisecond,
		ResyncInterval: time.Hour, PersistInterval: time.Hour, LastSeenInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	w := &failingWriter{Store: store}
	l.writer = w
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() { cancel(); <-done }()

	l.Access(ctx, DeviceRequest{DeviceID: "B0", User: "u"})
	w.fail.Store(true) // the disk is full
	if err := l.Apply(&uemapi.Notification{ID: "n1", Type: uemapi.NotifyDeviceState,
		Device: &uemapi.Decision{EASDeviceID: "B0", User: "u", State: uemapi.StateBlocked}}); err != nil {
		t.Fatal(err)
	}
	w.fail.Store(false) // and has room again
	blockedOnDisk := func() int {
		n, err := store.LoadBlocked(devicecache.New(nil))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	g.Eventually(blockedOnDisk, 20*time.Second, 10*time.Millisecond).Should(gomega.Equal(1),
		"the block learnt while the disk was full is not on disk after its return")
}
