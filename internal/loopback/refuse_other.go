//go:build !unix

package loopback

import "errors"

// Refusing needs a Unix socket API; elsewhere it returns an error.
func Refusing() (string, func() error, error) {
	return "", nil, errors.New("loopback: Refusing needs a Unix system")
}
