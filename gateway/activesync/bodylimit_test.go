package activesync

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

// A body refused for its size is answered 413 (Provision, outbound mail
// under attachment control); any other unreadable body stays 400.
func TestBodyErrorStatus(t *testing.T) {
	_, overAttach := readBounded(bytes.NewReader(make([]byte, 11)), 10)
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"attachment control limit", overAttach, http.StatusRequestEntityTooLarge},
		{"Provision limit", fmt.Errorf("%w: Provision over 1 bytes", errBodyTooLarge), http.StatusRequestEntityTooLarge},
		{"http.MaxBytesReader", fmt.Errorf("reading: %w", &http.MaxBytesError{Limit: 1}), http.StatusRequestEntityTooLarge},
		{"malformed", errors.New("provision request: bad WBXML"), http.StatusBadRequest},
	} {
		if got := bodyErrorStatus(tc.err); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
