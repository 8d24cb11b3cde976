package loadgen

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// WireCounts are what the fleet's own sockets to the gateway carried,
// counted under TLS (handshakes included) as the gateway counts its
// d-bytes-rcvd, d-bytes-sent and d-connection, so that a run's figures
// can be checked against the gateway's statistics (issue 22).
type WireCounts struct {
	// Connections are the TCP connections the fleet opened.
	Connections int64 `json:"connections"`
	// DeviceConnections count, as the gateway's d-connection does, one
	// per connection and device: again each time a connection carries a
	// request of another device than its previous one.
	DeviceConnections int64 `json:"device_connections"`
	BytesSent         int64 `json:"bytes_sent"`
	BytesRcvd         int64 `json:"bytes_rcvd"`
}

// add sums o into w.
func (w *WireCounts) add(o *WireCounts) {
	w.Connections += o.Connections
	w.DeviceConnections += o.DeviceConnections
	w.BytesSent += o.BytesSent
	w.BytesRcvd += o.BytesRcvd
}

// wireMeter counts the fleet's connections and bytes.
type wireMeter struct {
	conns, devConns, sent, rcvd atomic.Int64
	open                        atomic.Int64
}

// drainMax bounds how long a closed connection reads what the gateway
// still sends (meteredConn.Close): only a gateway that never closes its
// side keeps a run's end waiting that long.
const drainMax = 30 * time.Second

// waitClosed waits (at most timeout) until every counted connection is
// closed: connections cut at the end of a run close (and read the
// gateway's last bytes, see meteredConn.Close) on goroutines of their
// own, after the run returns.
func (m *wireMeter) waitClosed(timeout time.Duration) {
	for end := time.Now().Add(timeout); m.open.Load() > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
}

func (m *wireMeter) counts() WireCounts {
	return WireCounts{Connections: m.conns.Load(), DeviceConnections: m.devConns.Load(), BytesSent: m.sent.Load(), BytesRcvd: m.rcvd.Load()}
}

// dial wraps a dial function so that its connections are counted.
func (m *wireMeter) dial(next func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		m.conns.Add(1)
		m.open.Add(1)
		return &meteredConn{Conn: c, m: m}, nil
	}
}

// meteredConn is one counted connection.
type meteredConn struct {
	net.Conn
	m      *wireMeter
	mu     sync.Mutex
	last   string // the device of the connection's previous request
	closed atomic.Bool
}

func (c *meteredConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.m.rcvd.Add(int64(n))
	return n, err
}

func (c *meteredConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.m.sent.Add(int64(n))
	return n, err
}

// Close closes as a phone closing cleanly does: after its TLS close
// alert (the last write) it half-closes and reads what the gateway still
// sends, its own close alert included, until the gateway closes (at most
// drainMax, in the background: the transport closes its idle connections
// one after the other). The gateway counts what it wrote, the answer to
// a request the end of a run cut included, which a loaded gateway sends
// seconds later; this way the fleet has read it too. A 3 s limit here
// left hundreds of connections unread at the end of a run at load 25
// (the gateway's d-bytes-sent 5 % above the fleet's count).
func (c *meteredConn) Close() error {
	tcp, ok := c.Conn.(*net.TCPConn)
	if c.closed.Swap(true) {
		return c.Conn.Close()
	}
	if !ok {
		defer c.m.open.Add(-1)
		return c.Conn.Close()
	}
	_ = tcp.CloseWrite()
	_ = tcp.SetReadDeadline(time.Now().Add(drainMax))
	go func() {
		defer c.m.open.Add(-1)
		n, _ := io.Copy(io.Discard, tcp)
		c.m.rcvd.Add(n)
		_ = tcp.Close()
	}()
	return nil
}

// UsedBy is told by the device (loadgen/device) which device's request
// the connection carries next.
func (c *meteredConn) UsedBy(device string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != device {
		c.last = device
		c.m.devConns.Add(1)
	}
}
