package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// Device request bodies are read under deadlines of their own, so that a
// device that sends its body a byte at a time cannot hold a connection
// (and a handler) forever. Each read must bring data within the socket
// read/write timeout of the moment (ASC-20, 10 s by default), and once a
// first socket timeout has passed the body must average minBodyRate, so
// that a trickle that always comes just in time is cut too. The deadline
// is armed on the connection (http.ResponseController) before each read
// and cleared when the body ends, so the response takes as long as it
// needs: a Ping's small body arrives at once and its answer comes minutes
// later. http.Server's ReadTimeout would instead bound the whole body,
// cutting a large SendMail on a slow but steady link.
//
// The control plane (notifications, admin API) has small bodies and uses
// ReadTimeout (Config.ControlReadTimeout).

// minBodyRate is the slowest a device body may arrive on average, in
// bytes a second, once the first socket timeout has passed; the figure
// Kestrel uses for its minimum request body data rate. A megabyte takes
// over an hour at that rate, slower than any link a device syncs over.
const minBodyRate = 240

// errSlowBody is the error a body read returns when a deadline cut it.
var errSlowBody = errors.New("request body too slow")

// bodyDeadline bounds one request body.
type bodyDeadline struct {
	rc    *http.ResponseController
	body  io.ReadCloser
	idle  time.Duration
	first atomic.Int64 // the first read, Unix nanoseconds
	read  atomic.Int64
	ended atomic.Bool // EOF seen: the deadline is cleared
	cut   atomic.Bool // a deadline cut the body
	// done: the handler returned; a late read (a transport still sending
	// the body) must not move the deadline of a connection the server
	// owns again.
	done atomic.Bool
}

// deadline is that of the next read: idle from now, and no later than
// the minimum rate allows for what has arrived since the first read.
func (b *bodyDeadline) deadline(now time.Time) time.Time {
	first := time.Unix(0, b.first.Load())
	rate := first.Add(b.idle + time.Duration(b.read.Load())*time.Second/minBodyRate)
	if perRead := now.Add(b.idle); perRead.Before(rate) {
		return perRead
	}
	return rate
}

func (b *bodyDeadline) Read(p []byte) (int, error) {
	if b.ended.Load() || b.done.Load() {
		return b.body.Read(p)
	}
	now := time.Now()
	b.first.CompareAndSwap(0, now.UnixNano())
	if err := b.rc.SetReadDeadline(b.deadline(now)); err != nil {
		return b.body.Read(p) // not a connection with deadlines (a test recorder)
	}
	n, err := b.body.Read(p)
	b.read.Add(int64(n))
	switch {
	case errors.Is(err, io.EOF):
		// The whole body is in (net/http clears the deadline as well
		// when it starts its own background read).
		b.ended.Store(true)
		_ = b.rc.SetReadDeadline(time.Time{})
	case err != nil && isTimeout(err):
		b.cut.Store(true)
		since := time.Since(time.Unix(0, b.first.Load())).Round(time.Millisecond)
		err = fmt.Errorf("%w: %d bytes in %v: %w", errSlowBody, b.read.Load(), since, err)
	}
	return n, err
}

func (b *bodyDeadline) Close() error { return b.body.Close() }

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// deviceBodyDeadlines bounds device request bodies with the socket
// timeout idle() gives at the request's start. If the handler returns
// before the body ended, the server reads (and discards) what is left
// under one more socket timeout.
func deviceBodyDeadlines(idle func() time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		b := &bodyDeadline{rc: http.NewResponseController(w), body: r.Body, idle: idle()}
		r.Body = b
		if m := stats.ConnFrom(r.Context()); m != nil {
			// A read timeout now cuts a command: d-err-cmd-timeout.
			m.Busy(true)
			defer m.Busy(false)
		}
		next.ServeHTTP(w, r)
		if !b.ended.Load() && !b.cut.Load() {
			_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
		}
		b.done.Store(true)
	})
}
