package faults

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// sleep waits d. It returns false when stop closes first (the client or
// the connection is gone); the fault ending (done) cuts it short and
// returns true.
func sleep(stop, done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-stop:
		return false
	case <-done:
		return true
	case <-t.C:
		return true
	}
}

// Abort ends a request without an answer: the connection is closed (for
// HTTP/2, where it cannot be taken over, the stream is reset).
func Abort(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = c.Close()
}

// resetRequest ends a request with a TCP reset (SO_LINGER 0) and no
// answer.
func resetRequest(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	resetConn(c)
}

// resetConn closes c with a TCP reset. Under TLS the TCP connection is
// closed, not the tls.Conn: that would send a close_notify alert first,
// which the peer reads as an orderly close (EOF), not a reset.
func resetConn(c net.Conn) {
	if tcp := underlyingTCP(c); tcp != nil {
		_ = tcp.SetLinger(0)
		_ = tcp.Close()
		return
	}
	_ = c.Close()
}

// underlyingTCP unwraps c (tls.Conn and the wrappers of this package
// have NetConn) down to the TCP connection.
func underlyingTCP(c net.Conn) *net.TCPConn {
	for range 16 { // wrappers do not nest deeper
		switch v := c.(type) {
		case *net.TCPConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// errHeld is what writes of an answer get once its client is gone.
var errHeld = errors.New("faults: answer held until the client left")

// heldWriter holds an answer back until hold returns: the handler runs
// at once, its first write waits. When hold returns false (the client
// left) the answer is dropped.
type heldWriter struct {
	http.ResponseWriter
	hold func() bool
	once sync.Once
	ok   bool
}

func holdAnswer(w http.ResponseWriter, hold func() bool) *heldWriter {
	return &heldWriter{ResponseWriter: w, hold: hold}
}

func (h *heldWriter) pass() bool {
	h.once.Do(func() { h.ok = h.hold() })
	return h.ok
}

func (h *heldWriter) WriteHeader(code int) {
	if h.pass() {
		h.ResponseWriter.WriteHeader(code)
	}
}

func (h *heldWriter) Write(p []byte) (int, error) {
	if !h.pass() {
		return 0, errHeld
	}
	return h.ResponseWriter.Write(p)
}

// FlushError holds too, so that a flushed answer waits like a written one.
func (h *heldWriter) FlushError() error {
	if !h.pass() {
		return errHeld
	}
	return http.NewResponseController(h.ResponseWriter).Flush()
}

func (h *heldWriter) Flush() { _ = h.FlushError() }

func (h *heldWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// discardWriter takes a handler's answer and throws it away, so that a
// fault can answer in its place after the handler ran.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}

// runDiscarded runs next with its answer thrown away.
func runDiscarded(next http.Handler, r *http.Request) { next.ServeHTTP(&discardWriter{}, r) }
