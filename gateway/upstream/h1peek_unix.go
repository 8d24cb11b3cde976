//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package upstream

import "syscall"

// socketPeek: idle connections are probed with one non-blocking peek.
const socketPeek = true

// peekSocket peeks at fd without blocking or consuming: EAGAIN while the
// connection is open and quiet.
func peekSocket(fd uintptr, buf []byte) (int, error) {
	n, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return n, err
}
