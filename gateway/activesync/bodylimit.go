package activesync

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/internal/httplimit"
)

// errBodyTooLarge marks a device body over one of the gateway's own
// bounds (Provision, attachment control on outbound mail).
var errBodyTooLarge = errors.New("body larger than the gateway accepts")

// bodyErrorStatus is the answer to a device body the gateway could not
// take: 413 when it was too large, so the device (and its user) sees the
// cause instead of a malformed request; 400 otherwise.
func bodyErrorStatus(err error) int {
	if errors.Is(err, errBodyTooLarge) || httplimit.TooLarge(err) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// deviceBodyStatus is the answer to a device body that broke while it
// was forwarded: 408 when the gateway's body deadline cut it, 413 when a
// limit did, 400 otherwise (a malformed chunk, a body shorter than its
// Content-Length).
func deviceBodyStatus(err error) int {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return http.StatusRequestTimeout
	}
	return bodyErrorStatus(err)
}

// readBoundedBody is readBounded on a device's request body, whose
// declared length is checked first: a Content-Length over max is refused
// before a byte is read, so that a device that sent "Expect:
// 100-continue" is not told to send a body the gateway would refuse.
func readBoundedBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, fmt.Errorf("%w: %d bytes declared, limit %d", errBodyTooLarge, r.ContentLength, max)
	}
	return readBounded(r.Body, max)
}

// deviceBodyFailed answers a forwarding failure that was the device's
// body breaking (hung up, malformed chunk, too slow): its fault, not the
// server's, so a 4xx by deviceBodyStatus, never a 502.
func (h *Handler) deviceBodyFailed(w http.ResponseWriter, err error) bool {
	if be := (*upstream.DeviceBodyError)(nil); !errors.As(err, &be) {
		return false
	}
	h.cfg.Log.Info("activesync device body unreadable", "error", err)
	w.Header().Set("Connection", "close")
	w.WriteHeader(deviceBodyStatus(err))
	return true
}
