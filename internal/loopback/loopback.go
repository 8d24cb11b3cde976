// Package loopback hands out 127.0.0.1 ports that stay their owner's while
// it is not listening: ports below the kernel's ephemeral range, which
// bind(0) and outgoing connections never take, so that a server can close
// its port and bind it again (a restart, a fake started later on an address
// already configured), and placeholders that hold a port with nothing
// listening behind it (connections refused). A port from bind(0), released
// and bound again later, can meanwhile go to a parallel test package's
// server or be the source port of any connection on the machine.
package loopback

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// lowest is the first port handed out; the range ends below the ephemeral one.
const lowest = 20000

// next is the last offset handed out, from a random start, so that callers
// in one process never draw the same port and other processes start elsewhere.
var next = func() *atomic.Int64 {
	var n atomic.Int64
	n.Store(rand.Int64N(1 << 20))
	return &n
}()

// Port returns a 127.0.0.1 address below the ephemeral port range that was
// free for TCP and UDP a moment ago; the caller binds it soon. Only another
// caller choosing a port by number (never bind(0)) can take it meanwhile.
func Port() (string, error) {
	end := ephemeralStart()
	if end <= lowest {
		return "", fmt.Errorf("loopback: the ephemeral range starts at %d, below %d", end, lowest)
	}
	var err error
	for range 200 {
		addr := candidate(end)
		if err = probe(addr); err == nil {
			return addr, nil
		}
	}
	return "", fmt.Errorf("loopback: no free port below %d: %w", end, err)
}

// Host returns addr with a port from Port when it is "127.0.0.1:0", and
// addr unchanged otherwise (a fixed port, another interface).
func Host(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("loopback: %w", err)
	}
	if port != "0" || host != "127.0.0.1" {
		return addr, nil
	}
	return Port()
}

// candidate is the next port of [lowest, end) in turn.
func candidate(end int) string {
	p := lowest + int(next.Add(1)%int64(end-lowest))
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
}

// probe binds addr for TCP and UDP and releases both.
func probe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	return pc.Close()
}

// ephemeralStart is the first port of the kernel's ephemeral range
// (Linux's ip_local_port_range; 32768, Linux's default, elsewhere).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}
