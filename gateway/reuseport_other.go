//go:build !linux

package gateway

import "errors"

func setReusePort(uintptr) error {
	return errors.New("reuse_port is supported on Linux only")
}
