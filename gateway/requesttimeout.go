package gateway

import (
	"net"
	"time"
)

// requestTimeoutMarker is what the device listener's http.Server holds
// as its ReadHeaderTimeout and IdleTimeout. net/http copies those into
// each deadline it sets while it waits for a request (the TLS handshake,
// the request head, an idle keep-alive connection); requestTimeoutConn
// replaces every deadline that far ahead by the Device request timeout
// of the moment (ASC-23), which the UEM may change at any time. No other
// deadline comes near it: the longest timeout the UEM can set is
// uemapi.MaxTimeoutMs, about 25 days.
const requestTimeoutMarker = 1000 * 24 * time.Hour

// markerFloor: a deadline further ahead than this was set from the
// marker (net/http adds it to a time.Now() taken a moment earlier).
const markerFloor = requestTimeoutMarker - 24*time.Hour

// requestTimeoutListener gives its connections the Device request
// timeout of the moment.
type requestTimeoutListener struct {
	net.Listener
	timeout func() time.Duration
}

func (l *requestTimeoutListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &requestTimeoutConn{Conn: c, timeout: l.timeout}, nil
}

// requestTimeoutConn turns the marker deadlines into real ones.
type requestTimeoutConn struct {
	net.Conn
	timeout func() time.Duration
}

func (c *requestTimeoutConn) fix(t time.Time) time.Time {
	if !t.IsZero() && time.Until(t) > markerFloor {
		return time.Now().Add(c.timeout())
	}
	return t
}

func (c *requestTimeoutConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.fix(t)) }

func (c *requestTimeoutConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.fix(t))
}

func (c *requestTimeoutConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.fix(t))
}
