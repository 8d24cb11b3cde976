package audit_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// countingWriter counts Write calls (the system calls a file would see).
type countingWriter struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	gate   chan struct{} // when non-nil, each Write waits for a value
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.gate != nil {
		<-c.gate
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.b.Write(p)
}

func (c *countingWriter) lines() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Count(c.b.String(), "SENTRY_AUDIT"), c.writes
}

func pair(l *audit.Logger, user string) {
	l.Begin(audit.Request{User: user, DeviceID: "D", ServiceType: audit.ServiceActiveSync}).End(audit.Response{HTTPStatus: 200})
}

// Issue 22: the audit costs one write per batch of entries, not one
// flushed write per entry (which cost up to 40 % more CPU per request).
func TestAuditGroupCommitWritesABatchAtOnce(t *testing.T) {
	w := &countingWriter{}
	l := audit.NewBuffered(w, "gw", nil, audit.Buffering{Interval: time.Hour})
	defer l.Close()
	for range 100 {
		pair(l, "alice")
	}
	if n, writes := w.lines(); n != 0 || writes != 0 {
		t.Fatalf("%d lines in %d writes before the interval or a Flush, want none yet", n, writes)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, writes := w.lines(); n != 200 || writes != 1 {
		t.Fatalf("%d lines in %d writes after Flush, want 200 in 1", n, writes)
	}
}

// An entry reaches the writer by itself within the interval (no Flush),
// so a reader polling the file sees it.
func TestAuditEntriesWrittenWithinTheInterval(t *testing.T) {
	w := &countingWriter{}
	l := audit.NewBuffered(w, "gw", nil, audit.Buffering{Interval: 10 * time.Millisecond})
	defer l.Close()
	pair(l, "alice")
	gomega.NewWithT(t).Eventually(func() int { n, _ := w.lines(); return n }).WithTimeout(20 * time.Second).Should(gomega.Equal(2))
}

// A clean stop loses nothing: Close writes every entry written before it,
// from many goroutines; entries after Close are dropped and counted.
func TestAuditCloseWritesEveryEntry(t *testing.T) {
	w := &countingWriter{}
	l := audit.NewBuffered(w, "gw", nil, audit.Buffering{Interval: time.Hour, BatchBytes: 4 << 10})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 250 {
				pair(l, strings.Repeat("u", g+1))
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n, writes := w.lines(); n != 4000 || writes < 2 {
		t.Fatalf("%d lines in %d writes after Close, want 4000 in several (batches of 4 KiB)", n, writes)
	}
	pair(l, "late")
	if n, _ := w.lines(); n != 4000 || l.Dropped() != 2 {
		t.Fatalf("after Close: %d lines, %d dropped; want 4000 and 2", n, l.Dropped())
	}
}

// A stalled writer never holds the request path for long: once the
// buffer is full an entry waits FullWait for room, then is dropped and
// counted; what was buffered is written when the writer recovers.
func TestAuditFullBufferDropsAndCounts(t *testing.T) {
	w := &countingWriter{gate: make(chan struct{})}
	l := audit.NewBuffered(w, "gw", nil, audit.Buffering{Interval: time.Millisecond, BatchBytes: 1, MaxBytes: 2 << 10, FullWait: time.Millisecond})
	written := 0
	for i := 0; i < 1000 && l.Dropped() == 0; i++ {
		pair(l, "alice") // returns: the request path is never stuck
		written += 2
	}
	if l.Dropped() == 0 {
		t.Fatal("a stalled writer and a 2 KiB buffer dropped nothing after 2000 entries")
	}
	close(w.gate)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n, _ := w.lines(); uint64(n)+l.Dropped() != uint64(written) {
		t.Fatalf("%d written + %d dropped != %d entries", n, l.Dropped(), written)
	}
}
