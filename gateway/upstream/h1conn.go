package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// One HTTP/1.1 connection to a server of the lean upstream path (h1pool.go):
// a request is written and its response read on the caller's goroutine,
// where http.Transport hands each request to two goroutines of the
// connection (writeLoop, readLoop) through channels. The parsing is the
// standard library's (Request.Write, http.ReadResponse).

// maxResponseHeader bounds a response head, as http.Transport's default
// MaxResponseHeaderBytes (10 MiB) does.
const maxResponseHeader = 10 << 20

// max1xx bounds the informational responses before the final one, as
// http.Transport does.
const max1xx = 5

var (
	// errH1ReadAfterClose: as http.Transport's body says.
	errH1ReadAfterClose = errors.New("http: read on closed response body")
	// errH1Too1xx: as http.Transport says.
	errH1Too1xx = errors.New("net/http: too many 1xx informational responses")
)

// h1Writers and h1Readers are shared by all connections: a connection
// holds a buffer only while it writes a request or reads a response, not
// while it is idle or a server holds a Ping.
var (
	h1Writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}
	h1Readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}
)

// h1conn is one pooled connection. Only the goroutine that holds it (the
// request's, then its response body's reader) uses it, apart from the
// cancellation, which closes raw.
type h1conn struct {
	pool *h1pool
	key  h1key
	conn net.Conn // as dialled: a *tls.Conn, or the counting wrapper
	raw  net.Conn // the innermost connection, closed to cancel
	// sys, when the innermost connection has a socket, probes an idle
	// connection without a read deadline (alive).
	sys   syscall.RawConn
	tls   *tls.ConnectionState
	br    *bufio.Reader // while a response is read
	limit int64         // bytes the response head may still take
	used  bool          // it carried a request before
	idle  time.Time     // when it went idle

	cancel  func()                // closes raw: the context's AfterFunc
	peek    func(fd uintptr) bool // the socket probe, made once
	peekBuf [1]byte
	peekErr error
	first   [1]byte // the response's first byte, read before the reader
	pending bool    // first is not yet read through the reader
}

// newH1Conn wraps a dialled connection.
func newH1Conn(p *h1pool, key h1key, nc net.Conn) *h1conn {
	c := &h1conn{pool: p, key: key, conn: nc, raw: innermost(nc)}
	if tc, ok := nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		c.tls = &st
	}
	c.cancel = func() { c.raw.Close() }
	if sc, ok := c.raw.(syscall.Conn); ok && socketPeek {
		if rc, err := sc.SyscallConn(); err == nil {
			c.sys = rc
			c.peek = func(fd uintptr) bool {
				_, c.peekErr = peekSocket(fd, c.peekBuf[:])
				return true
			}
		}
	}
	return c
}

// Read is the response reader's source: it applies the head's limit.
func (c *h1conn) Read(p []byte) (int, error) {
	if c.limit <= 0 {
		return 0, fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", maxResponseHeader)
	}
	if c.pending && len(p) > 0 {
		c.pending = false
		p[0] = c.first[0]
		c.limit--
		return 1, nil
	}
	if int64(len(p)) > c.limit {
		p = p[:c.limit]
	}
	n, err := c.conn.Read(p)
	c.limit -= int64(n)
	return n, err
}

// close ends the connection and releases its reader, if the caller may.
func (c *h1conn) close() {
	c.conn.Close()
	c.pool.conns.Add(-1)
}

// roundTrip writes req on c and reads the response head. On an error c is
// closed; on success the response body owns c (h1body).
func (c *h1conn) roundTrip(req *http.Request, trace *httptrace.ClientTrace) (*http.Response, error) {
	ctx := req.Context()
	stop := context.AfterFunc(ctx, c.cancel)
	bw := h1Writers.Get().(*bufio.Writer)
	bw.Reset(c.conn)
	err := req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	h1Writers.Put(bw)
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
	if err != nil {
		return nil, c.fail(ctx, stop, err)
	}
	if c.tls != nil {
		// The answer's first byte before a reader is taken: a held Ping
		// keeps no read buffer. TLS keeps the rest of the record
		// decrypted, so this reads the socket no more often.
		if _, err := c.conn.Read(c.first[:]); err != nil {
			return nil, c.fail(ctx, stop, err) // as http.Transport: the read error itself
		}
		c.pending = true
	}
	c.br = h1Readers.Get().(*bufio.Reader)
	c.br.Reset(c)
	resp, err := c.readHead(req, trace)
	if err != nil {
		c.dropReader()
		return nil, c.fail(ctx, stop, err)
	}
	c.limit = 1<<63 - 1
	resp.TLS = c.tls
	alive := !resp.Close && !req.Close && resp.StatusCode > 199
	if req.Method == http.MethodHead || resp.ContentLength == 0 || resp.Body == http.NoBody {
		resp.Body = http.NoBody
		c.release(alive && c.br.Buffered() == 0, stop)
		return resp, nil
	}
	resp.Body = &h1body{c: c, rc: resp.Body, stop: stop, alive: alive, ctx: ctx}
	return resp, nil
}

// fail ends a round trip that failed: the connection is closed and the
// error is the cancellation's when the context ended, as http.Transport
// reports it (not the broken read it caused).
func (c *h1conn) fail(ctx context.Context, stop func() bool, err error) error {
	stop()
	c.close()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// readHead reads the response head, skipping informational responses.
func (c *h1conn) readHead(req *http.Request, trace *httptrace.ClientTrace) (*http.Response, error) {
	for n1xx := 0; ; {
		c.limit = maxResponseHeader
		if _, err := c.br.Peek(1); err != nil {
			return nil, err // as http.Transport: the read error itself
		}
		if trace != nil && trace.GotFirstResponseByte != nil {
			trace.GotFirstResponseByte()
		}
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			if c.limit <= 0 {
				return nil, fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", maxResponseHeader)
			}
			return nil, fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", err)
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, err
			}
		}
		if n1xx++; n1xx > max1xx {
			return nil, errH1Too1xx
		}
	}
}

// dropReader gives the response reader back when nothing reads it.
func (c *h1conn) dropReader() {
	if c.br != nil {
		c.br.Reset(nil)
		h1Readers.Put(c.br)
		c.br = nil
	}
}

// release ends a response: the connection goes back to the pool when
// reusable and not being cancelled, else it is closed.
func (c *h1conn) release(reusable bool, stop func() bool) {
	if stop() && reusable {
		c.dropReader()
		c.pool.put(c)
		return
	}
	// A cancellation may be closing it: the reader is left to the
	// collector, never shared while a read may still use it.
	c.br = nil
	c.close()
}

// alive reports whether an idle connection can carry a request: the
// server has not closed it and sent nothing meanwhile (http.Transport's
// readLoop notices both while the connection is idle).
func (c *h1conn) alive() bool {
	var buf [1]byte
	if c.sys != nil {
		if c.sys.Read(c.peek) != nil {
			return false
		}
		// n 0 with no error: the server closed; more: it sent something.
		return errors.Is(c.peekErr, syscall.EAGAIN) || errors.Is(c.peekErr, syscall.EWOULDBLOCK)
	}
	// No socket to peek at (a test's dialler): a read bounded by 1 ms. A
	// deadline already past would fail before reading anything.
	if c.conn.SetReadDeadline(time.Now().Add(time.Millisecond)) != nil {
		return false
	}
	n, err := c.conn.Read(buf[:])
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() {
		return false
	}
	return c.conn.SetReadDeadline(time.Time{}) == nil
}

// h1body is a response body on an h1conn: at EOF the connection goes back
// to the pool when reusable; closed early it is closed, as http.Transport
// does (the rest is not read).
type h1body struct {
	c     *h1conn
	rc    io.ReadCloser // http.ReadResponse's body
	stop  func() bool   // ends the cancellation
	ctx   context.Context
	alive bool
	done  atomic.Bool // the connection was released
	eof   atomic.Bool
	shut  atomic.Bool // Close was called
}

func (b *h1body) Read(p []byte) (int, error) {
	if b.shut.Load() {
		return 0, errH1ReadAfterClose
	}
	if b.eof.Load() {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.eof.Store(true)
		b.finish(true)
	case err != nil:
		b.finish(false)
		if b.ctx.Err() != nil {
			err = context.Cause(b.ctx) // as http.Transport
		}
	}
	return n, err
}

// Close releases the connection: reusable only once the body was read.
func (b *h1body) Close() error {
	b.shut.Store(true)
	b.finish(b.eof.Load())
	return nil
}

func (b *h1body) finish(eof bool) {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	b.c.release(eof && b.alive && b.c.br.Buffered() == 0, b.stop)
}
