package gateway

import (
	"context"
	"fmt"
	"net"
	"syscall"
)

// listenTCP binds addr; with reusePort the socket gets SO_REUSEPORT before
// it binds, so other processes (and listeners) that set it too can bind
// the same address, and the kernel spreads new connections over them by
// their 4-tuple hash. A socket without it still refuses to share.
func listenTCP(addr string, reusePort bool) (net.Listener, error) {
	if !reusePort {
		return net.Listen("tcp", addr)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = setReusePort(fd) }); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("SO_REUSEPORT: %w", serr)
		}
		return nil
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}
