package activesync

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// rawRelay is a measuring stick, not a proxy to ship (issue 26): the
// least a TLS-to-TLS HTTP/1.1 relay of ActiveSync requests can cost in Go
// on this machine, with no net/http on either side. Each device
// connection has one goroutine; it reads the request head and a
// Content-Length body with one pooled bufio.Reader, writes head and body
// upstream in one buffered write on a pooled server connection, reads the
// response the same way and answers in one write. It handles only what
// BenchmarkProxy sends (POST, Content-Length on both sides, keep-alive):
// no chunking, no Expect, no trailers, no timeouts, no hop-by-hop
// headers, which is why its figure bounds from below what a hand-written
// fast path could reach, not what it would.
type rawRelay struct {
	ln    net.Listener
	upTLS *tls.Config
	upAdr string
	idle  chan *relayConn // pooled server connections
	bufs  sync.Pool       // *bytes.Buffer for the one write of head and body
}

type relayConn struct {
	c  net.Conn
	br *bufio.Reader
}

// startRawRelay listens on 127.0.0.1 with cfg's certificate and relays to
// upAddr over TLS with upTLS.
func startRawRelay(b *testing.B, cfg *tls.Config, upAddr string, upTLS *tls.Config) *rawRelay {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := &rawRelay{ln: ln, upTLS: upTLS, upAdr: upAddr, idle: make(chan *relayConn, 256)}
	r.bufs.New = func() any { return new(bytes.Buffer) }
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *rawRelay) close() {
	r.ln.Close()
	for {
		select {
		case c := <-r.idle:
			c.c.Close()
		default:
			return
		}
	}
}

func (r *rawRelay) serve(c net.Conn) {
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

func (r *rawRelay) server() (*relayConn, error) {
	select {
	case c := <-r.idle:
		return c, nil
	default:
	}
	c, err := tls.Dial("tcp", r.upAdr, r.upTLS)
	if err != nil {
		return nil, err
	}
	return &relayConn{c: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

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
				return err
			}
		}
	}
	if n < 0 {
		return errors.New("relay: no Content-Length")
	}
	_, err := io.CopyN(out, br, int64(n))
	return err
}

// relayURL starts the raw relay in front of up and returns its URL and a
// client that trusts its certificate (a TLS test server's, whose own
// listener stays idle).
func relayURL(b *testing.B, up *httptest.Server) (string, *http.Client, func()) {
	cert := httptest.NewUnstartedServer(nil)
	cert.StartTLS()
	r := startRawRelay(b, cert.TLS.Clone(), up.Listener.Addr().String(), up.Client().Transport.(*http.Transport).TLSClientConfig)
	return "https://" + r.ln.Addr().String(), cert.Client(), func() { r.close(); cert.Close() }
}
