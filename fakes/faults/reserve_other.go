//go:build !linux

package faults

import (
	"errors"
	"net"
	"syscall"
)

// reuseport is a no-op where the port is not reserved while down.
func reuseport(_, _ string, _ syscall.RawConn) error { return nil }

// reserve is only built on Linux; elsewhere a down listener's port is free.
func reserve(net.Addr) (func() error, error) {
	return nil, errors.New("faults: port reservation needs Linux")
}
