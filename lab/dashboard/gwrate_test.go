package dashboard

import (
	"testing"
	"time"
)

// The gateway-wide rate is a plain difference per second, and neither a
// restart (the counter starts again at 0) nor a missed sample plots a
// negative or bogus value.
func TestDashboardGatewayRate(t *testing.T) {
	for _, tc := range []struct {
		name          string
		prev, cur     uint64
		prevOK, curOK bool
		dt            time.Duration
		want          float64
	}{
		{"steady", 100, 130, true, true, 2 * time.Second, 15},
		{"restart", 100, 3, true, true, time.Second, 0},
		{"no previous sample", 0, 50, false, true, time.Second, 0},
		{"gateway down", 100, 0, true, false, time.Second, 0},
	} {
		if got := counterRate(tc.prev, tc.cur, tc.prevOK, tc.curOK, tc.dt); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
