//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package upstream

import "syscall"

// socketPeek: no non-blocking peek here; idle connections are probed
// with a read deadline instead (h1conn.alive).
const socketPeek = false

func peekSocket(uintptr, []byte) (int, error) { return 0, syscall.EINVAL }
