package faults

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// reuseport lets the listener and the placeholder that keeps its port
// while down share the address.
func reuseport(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// reserve binds a TCP socket to addr without listening on it. Connections
// to addr are still refused, but while it stays open no other program can
// take the port: without it, a parallel test binding port 0 could be given
// the down listener's port and answer in its place.
func reserve(addr net.Addr) (func() error, error) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("faults: cannot reserve a %T", addr)
	}
	family, sa := unix.AF_INET, unix.Sockaddr(nil)
	if ip4 := ta.IP.To4(); ip4 != nil {
		s := &unix.SockaddrInet4{Port: ta.Port}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		s := &unix.SockaddrInet6{Port: ta.Port}
		copy(s.Addr[:], ta.IP.To16())
		family, sa = unix.AF_INET6, s
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("faults: reserving %s: %w", addr, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("faults: reserving %s: %w", addr, err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("faults: reserving %s: %w", addr, err)
	}
	return func() error { return unix.Close(fd) }, nil
}
