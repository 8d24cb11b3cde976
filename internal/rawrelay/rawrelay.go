// Package rawrelay is a measuring stick, not a proxy to ship (issue 26):
// the least a TLS-to-TLS HTTP/1.1 relay of ActiveSync requests can cost
// in Go on a given machine, with no net/http on either side. Each device
// connection has one goroutine; it reads the request head and a
// Content-Length body with one pooled bufio.Reader, writes head and body
// upstream in one write on a pooled server connection, reads the response
// the same way and answers in one write. It handles only what the proxy
// benchmarks send (Content-Length on both sides, keep-alive): no chunking,
// no Expect, no trailers, no timeouts, no hop-by-hop headers, which is
// why its figure bounds from below what a hand-written fast path in front
// of the gateway could reach, not what it would.
package rawrelay

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
)

// Relay relays the requests of the connections it serves to one server.
type Relay struct {
	upTLS *tls.Config
	upAdr string
	idle  chan *serverConn // pooled server connections
	bufs  sync.Pool        // *bytes.Buffer for the one write of head and body
}

type serverConn struct {
	c  net.Conn
	br *bufio.Reader
}

// New returns a relay to the TLS server at upAddr.
func New(upAddr string, upTLS *tls.Config) *Relay {
	r := &Relay{upTLS: upTLS, upAdr: upAddr, idle: make(chan *serverConn, 1024)}
	r.bufs.New = func() any { return new(bytes.Buffer) }
	return r
}

// Serve accepts connections from ln (a TLS listener) until it is closed.
func (r *Relay) Serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("rawrelay: %w", err)
		}
		go r.serve(c)
	}
}

// Close closes the idle server connections.
func (r *Relay) Close() {
	for {
		select {
		case c := <-r.idle:
			c.c.Close()
		default:
			return
		}
	}
}

func (r *Relay) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	for {
		buf := r.bufs.Get().(*bytes.Buffer)
		buf.Reset()
		if err := readMessage(br, buf); err != nil {
			return
		}
		up, err := r.server()
		if err != nil {
			return
		}
		if _, err := up.c.Write(buf.Bytes()); err != nil {
			up.c.Close()
			return
		}
		buf.Reset()
		if err := readMessage(up.br, buf); err != nil {
			up.c.Close()
			return
		}
		select {
		case r.idle <- up:
		default:
			up.c.Close()
		}
		_, err = c.Write(buf.Bytes())
		r.bufs.Put(buf)
		if err != nil {
			return
		}
	}
}

func (r *Relay) server() (*serverConn, error) {
	select {
	case c := <-r.idle:
		return c, nil
	default:
	}
	c, err := tls.Dial("tcp", r.upAdr, r.upTLS)
	if err != nil {
		return nil, err
	}
	return &serverConn{c: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

// errNoLength: the relay handles Content-Length bodies only.
var errNoLength = errors.New("rawrelay: no Content-Length")

// readMessage appends one HTTP/1.1 message (request or response) to out:
// the head line by line, then Content-Length bytes of body.
func readMessage(br *bufio.Reader, out *bytes.Buffer) error {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		out.Write(line)
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte{':'}); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			if n, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return fmt.Errorf("rawrelay: Content-Length: %w", err)
			}
		}
	}
	if n < 0 {
		return errNoLength
	}
	_, err := io.CopyN(out, br, int64(n))
	return err
}
