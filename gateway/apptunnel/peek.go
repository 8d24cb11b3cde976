package apptunnel

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// maxPeek bounds what the gateway reads from a CONNECT tunnel before it
// decides (a ClientHello, or an HTTP request head).
const maxPeek = 16 << 10

// recorder keeps every byte read through it, so that what the peek
// consumed can be sent on to the server unchanged.
type recorder struct {
	r   io.Reader
	buf bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf.Write(p[:n])
	return n, err
}

// sniffHost reads the start of a tunnel's client stream and returns the
// destination host it names: the SNI of a TLS ClientHello, read without
// terminating TLS, or the Host of a plain HTTP request (ATC-12). It
// returns the bytes it consumed; host is "" when the stream is neither or
// names no host.
func sniffHost(r io.Reader) (host string, consumed []byte) {
	rec := &recorder{r: io.LimitReader(r, maxPeek)}
	first := make([]byte, 1)
	if _, err := io.ReadFull(rec, first); err != nil {
		return "", rec.buf.Bytes()
	}
	rest := io.MultiReader(bytes.NewReader(first), rec)
	switch {
	case first[0] == 0x16: // TLS handshake record
		host = helloSNI(rest)
	case first[0] >= 'A' && first[0] <= 'Z': // an HTTP method
		if req, err := http.ReadRequest(bufio.NewReader(rest)); err == nil {
			host = req.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
		}
	}
	return strings.ToLower(host), rec.buf.Bytes()
}

var errPeeked = errors.New("apptunnel: client hello read")

// helloSNI runs crypto/tls's own ClientHello parser over r and stops at
// GetConfigForClient, before anything is written back.
func helloSNI(r io.Reader) string {
	var sni string
	conn := &readOnlyConn{r: r}
	srv := tls.Server(conn, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		sni = h.ServerName
		return nil, errPeeked
	}})
	_ = srv.Handshake()
	return sni
}

// readOnlyConn is a net.Conn that reads from r and discards writes.
type readOnlyConn struct{ r io.Reader }

func (c *readOnlyConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *readOnlyConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *readOnlyConn) Close() error                     { return nil }
func (c *readOnlyConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *readOnlyConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *readOnlyConn) SetDeadline(time.Time) error      { return nil }
func (c *readOnlyConn) SetReadDeadline(time.Time) error  { return nil }
func (c *readOnlyConn) SetWriteDeadline(time.Time) error { return nil }
