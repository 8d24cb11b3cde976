//go:build unix

package loopback

import (
	"fmt"
	"net"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Refusing returns a 127.0.0.1 address below the ephemeral range where a
// bound TCP socket that never listens holds the port: connections to it
// are refused, and nothing else is given the port until release (which
// may be called again). A server meant to appear there later binds it
// right after release.
func Refusing() (addr string, release func() error, err error) {
	end := ephemeralStart()
	if end <= lowest {
		return "", nil, fmt.Errorf("loopback: the ephemeral range starts at %d, below %d", end, lowest)
	}
	for range 200 {
		addr = candidate(end)
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		if release, err = hold(port); err == nil {
			return addr, release, nil
		}
	}
	return "", nil, fmt.Errorf("loopback: no port to hold below %d: %w", end, err)
}

// hold binds a TCP socket to 127.0.0.1:port without listening.
func hold(port int) (func() error, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("loopback: socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("loopback: bind 127.0.0.1:%d: %w", port, err)
	}
	// A server started there later may want UDP too (a KDC, a DNS server).
	pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("loopback: UDP port %d: %w", port, err)
	}
	_ = pc.Close()
	var once sync.Once
	return func() error {
		once.Do(func() { err = unix.Close(fd) })
		return err
	}, nil
}
