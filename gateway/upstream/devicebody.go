package upstream

import (
	"errors"
	"io"
)

// DeviceBodyError is a failure to read the device's request body while
// forwarding it: the device hung up mid-body, sent a malformed chunk, or
// the gateway's body deadline cut it. It is the device's fault, never
// the server's: no server is counted as failed or tried next for it, and
// the device gets a 4xx rather than a 502.
type DeviceBodyError struct{ Err error }

func (e *DeviceBodyError) Error() string {
	return "upstream: reading the device's request body: " + e.Err.Error()
}

func (e *DeviceBodyError) Unwrap() error { return e.Err }

// isDeviceBodyError reports whether err came from the device's body.
func isDeviceBodyError(err error) bool {
	var be *DeviceBodyError
	return errors.As(err, &be)
}

// deviceBody tags the errors of the device's body as DeviceBodyError, so
// that they are told from the server's once the transport returns them.
type deviceBody struct{ io.ReadCloser }

func (b deviceBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && !isDeviceBodyError(err) {
		err = &DeviceBodyError{Err: err}
	}
	return n, err
}
