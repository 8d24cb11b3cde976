package faults

import (
	"net"
	"syscall"
	"time"
)

// ResetPeer resets connections (TCP RST) at the first data of its
// direction once TimeoutMs has passed since the connection opened:
// upstream before the server reads what the client sent, downstream in
// place of what the server writes. Under TLS the first data are the
// handshake's.
type ResetPeer struct {
	TimeoutMs int `json:"timeout_ms,omitempty"`
}

func init() { Register("reset_peer", func() Toxic { return &ResetPeer{} }) }

// Kind is "reset_peer".
func (ResetPeer) Kind() string { return "reset_peer" }

// Validate checks the timeout.
func (t ResetPeer) Validate() error {
	if t.TimeoutMs < 0 || t.TimeoutMs > maxDelayMs {
		return attrErr("timeout_ms", "must be 0-%d", maxDelayMs)
	}
	return nil
}

// Apply arms the reset.
func (t ResetPeer) Apply(c net.Conn, env Env) net.Conn {
	return &resetPeerConn{faultConn: newFaultConn(c, env), at: time.Now().Add(time.Duration(t.TimeoutMs) * time.Millisecond)}
}

type resetPeerConn struct {
	faultConn
	at time.Time
}

var errReset = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

func (c *resetPeerConn) due() bool { return !time.Now().Before(c.at) }

func (c *resetPeerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.env.Direction == Upstream && c.due() {
		resetConn(c.Conn)
		return 0, errReset
	}
	return n, err
}

func (c *resetPeerConn) Write(p []byte) (int, error) {
	if c.env.Direction != Upstream && c.due() {
		resetConn(c.Conn)
		return 0, errReset
	}
	return c.Conn.Write(p)
}
