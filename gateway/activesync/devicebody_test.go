package activesync

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
)

// A device body that broke while forwarded is answered by its cause: the
// body deadline 408, a size limit 413, anything else 400; never 502.
func TestDeviceBodyStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&upstream.DeviceBodyError{Err: fmt.Errorf("request body too slow: %w", os.ErrDeadlineExceeded)}, http.StatusRequestTimeout},
		{&upstream.DeviceBodyError{Err: &http.MaxBytesError{Limit: 10}}, http.StatusRequestEntityTooLarge},
		{&upstream.DeviceBodyError{Err: io.ErrUnexpectedEOF}, http.StatusBadRequest},
		{&upstream.DeviceBodyError{Err: errors.New("invalid byte in chunk length")}, http.StatusBadRequest},
	} {
		if got := deviceBodyStatus(tc.err); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.want)
		}
	}
}
