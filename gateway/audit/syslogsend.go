package audit

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The send never blocks the request path (issue 22): Send formats the
// message and puts it on a bounded queue; one sender goroutine per
// target writes the queue to the server, redialling a lost TCP
// connection with backoff. When the queue is full (the server is slow,
// stalled or down) the message is dropped and counted (Dropped); the
// local audit log still has the entry.

// Queue bounds and timings of a syslog target.
const (
	syslogWriteTimeout = 30 * time.Second // a server that reads nothing for this long is redialled
	syslogBackoffMin   = 100 * time.Millisecond
	syslogBackoffMax   = 30 * time.Second
	syslogCloseWait    = time.Second // Close sends what it can for this long
)

// syslogQueue bounds the messages waiting for a target's sender (a
// variable so that a test can make it small).
var syslogQueue = 4096

// Syslog sends entries to one syslog server.
type Syslog struct {
	t       SyslogTarget
	host    string
	q       chan string
	stop    chan struct{} // closed by Close
	stopped chan struct{} // closed when the sender has returned
	once    sync.Once
	dropped atomic.Uint64
	sent    atomic.Uint64
	mu      sync.Mutex
	conn    net.Conn // the sender's connection; under mu so that Close can cut it
}

// NewSyslog returns a forwarder for t after validating it; host is the
// name in each message. It starts t's sender goroutine: Close stops it.
func NewSyslog(t SyslogTarget, host string) (*Syslog, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	s := &Syslog{t: t, host: host, q: make(chan string, syslogQueue), stop: make(chan struct{}), stopped: make(chan struct{})}
	go s.run()
	return s, nil
}

// Target is the target s sends to.
func (s *Syslog) Target() SyslogTarget { return s.t }

// Dropped is how many messages were dropped because the queue was full or
// the sender was stopped.
func (s *Syslog) Dropped() uint64 { return s.dropped.Load() }

// Sent is how many messages were written to the server's connection.
func (s *Syslog) Sent() uint64 { return s.sent.Load() }

// Send queues one message of the given severity ("info", …) and tag, if
// the target takes it: enabled, for the audit facility, and at a level
// that lets the severity through (AUD-13). It never blocks.
func (s *Syslog) Send(sev, tag, msg string, at time.Time) error {
	if s == nil || s.t.Disabled || s.t.Facility != "audit" || severity(sev) > severity(s.t.Level) {
		return nil
	}
	line := fmt.Sprintf("<%d>%s %s %s: %s", facilityLocal6*8+severity(sev), at.UTC().Format(time.Stamp), s.host, tag, msg)
	if s.t.Protocol == "TCP" {
		line += "\n"
	}
	select {
	case <-s.stop:
		s.dropped.Add(1)
		return fmt.Errorf("syslog %s: closed", s.addr())
	default:
	}
	select {
	case s.q <- line:
		return nil
	default:
		s.dropped.Add(1)
		return fmt.Errorf("syslog %s: queue full, message dropped", s.addr())
	}
}

func (s *Syslog) addr() string { return net.JoinHostPort(s.t.Server, strconv.Itoa(s.t.Port)) }

// run is the sender goroutine: one message at a time, each retried on a
// fresh connection after a failure, with backoff between failed dials.
func (s *Syslog) run() {
	defer close(s.stopped)
	backoff := syslogBackoffMin
	for {
		var line string
		select {
		case line = <-s.q:
		case <-s.stop:
			s.drain()
			return
		}
		for !s.write(line) {
			select {
			case <-time.After(backoff):
			case <-s.stop:
				s.dropped.Add(1) // line itself
				s.drain()
				return
			}
			backoff = min(2*backoff, syslogBackoffMax)
		}
		backoff = syslogBackoffMin
	}
}

// write sends one line, dialling first if needed; false: not sent.
func (s *Syslog) write(line string) bool {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c == nil {
		d := net.Dialer{Timeout: 5 * time.Second}
		nc, err := d.Dial(strings.ToLower(s.t.Protocol), s.addr())
		if err != nil {
			return false
		}
		s.mu.Lock()
		select {
		case <-s.stop: // Close ran while dialling: it could not cut this one
			s.mu.Unlock()
			nc.Close()
			return false
		default:
		}
		s.conn, c = nc, nc
		s.mu.Unlock()
	}
	_ = c.SetWriteDeadline(time.Now().Add(syslogWriteTimeout))
	select {
	case <-s.stop: // Close may have set its shorter deadline before ours
		_ = c.SetWriteDeadline(time.Now().Add(syslogCloseWait))
	default:
	}
	if _, err := c.Write([]byte(line)); err != nil {
		s.mu.Lock()
		if s.conn == c {
			s.conn = nil
		}
		s.mu.Unlock()
		c.Close()
		return false
	}
	s.sent.Add(1)
	return true
}

// drain sends what is queued, on the current connection only, until
// syslogCloseWait has passed; the rest is dropped.
func (s *Syslog) drain() {
	deadline := time.Now().Add(syslogCloseWait)
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	for {
		select {
		case line := <-s.q:
			if c == nil || time.Now().After(deadline) {
				s.dropped.Add(1)
				continue
			}
			_ = c.SetWriteDeadline(deadline)
			if _, err := c.Write([]byte(line)); err != nil {
				s.dropped.Add(1)
				c = nil
				continue
			}
			s.sent.Add(1)
		default:
			return
		}
	}
}

// Close stops the sender after it has sent what was queued (for at most
// a second) and closes the connection to the server.
func (s *Syslog) Close() error {
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		close(s.stop)
		s.mu.Lock()
		if s.conn != nil {
			// A stalled server must not hold the stop: cut a blocked write.
			_ = s.conn.SetWriteDeadline(time.Now().Add(syslogCloseWait))
		}
		s.mu.Unlock()
	})
	<-s.stopped
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
