package audit_test

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// stalledServer is a TCP syslog server that accepts connections and reads
// nothing until release is closed; then it reads everything.
type stalledServer struct {
	ln      net.Listener
	release chan struct{}
	accepts atomic.Int32
	mu      sync.Mutex
	got     bytes.Buffer
}

func newStalledServer(t *testing.T) *stalledServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stalledServer{ln: ln, release: make(chan struct{})}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			// A small window (above the loopback MSS, so that the reads
			// resume at full speed): the sockets fill sooner.
			_ = c.(*net.TCPConn).SetReadBuffer(128 << 10)
			go func() {
				defer c.Close()
				<-s.release
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					s.mu.Lock()
					s.got.Write(buf[:n])
					s.mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (s *stalledServer) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.String()
}

// AUD-12, issue 22: a TCP syslog server that accepts and reads nothing
// never stalls the request path (on one connection: no write timed out). 12 MB of entries (far more than the
// sockets' buffers hold) are audited and all return; the forward drops
// and counts what its queue cannot hold; once the server reads again the
// lines written after the stall arrive.
func TestAUD12StalledSyslogServerDoesNotStallRequests(t *testing.T) {
	defer audit.SetSyslogQueueForTest(64)()
	srv := newStalledServer(t)
	port := srv.ln.Addr().(*net.TCPAddr).Port
	fwd, err := audit.NewSyslog(audit.SyslogTarget{Server: "127.0.0.1", Port: port, Protocol: "TCP", Facility: "audit", Level: "info"}, "gw-test")
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(io.Discard, "gw-test", nil)
	defer l.Close()
	l.SetSyslog(fwd)
	big := strings.Repeat("u", 4000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1500 { // 3,000 entries of about 4 KB, more than the sockets and the queue hold
			l.Begin(audit.Request{User: big, DeviceID: "D", ServiceType: audit.ServiceActiveSync}).End(audit.Response{HTTPStatus: 200})
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second): // a deadline for a hang, not a speed threshold
		t.Fatal("audited requests stalled behind a syslog server that reads nothing")
	}
	// A sender on the request path gets its requests through a stalled
	// server only by timing its write out and redialling: a second
	// connection. The queue's sender waits on its one connection.
	if n := srv.accepts.Load(); n != 1 {
		t.Fatalf("%d connections to the stalled server, want 1: a write timed out on the request path", n)
	}
	if fwd.Dropped() == 0 {
		t.Fatalf("nothing dropped: 3,000 entries went through to a stalled server (sent %d)", fwd.Sent())
	}
	close(srv.release)
	// The queue is still full when the server starts reading: write
	// again until one of the new lines gets through (bounded).
	gomega.NewWithT(t).Eventually(func() string {
		l.Begin(audit.Request{User: "after-the-stall", DeviceID: "D", ServiceType: audit.ServiceActiveSync})
		return srv.text()
	}).WithTimeout(20*time.Second).WithPolling(50*time.Millisecond).Should(gomega.ContainSubstring(`"userId":"after-the-stall"`),
		"the line written after the stall arrives once the server reads")
	if err := fwd.Close(); err != nil {
		t.Fatal(err)
	}
}
