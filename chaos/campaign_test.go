package chaos

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// TestCampaign runs an in-process campaign of CHAOS_SCHEDULES schedules
// from CHAOS_SEED with the bundled gateway and expects no findings. It is
// off unless CHAOS_SCHEDULES is set: .ci/run runs its campaign with
// `gatehouse chaos run`, outside the race detector's slowdown.
func TestCampaign(t *testing.T) {
	n, seed := 0, int64(1)
	if v, err := strconv.Atoi(os.Getenv("CHAOS_SCHEDULES")); err == nil {
		n = v
	}
	if n <= 0 {
		t.Skip("CHAOS_SCHEDULES not set")
	}
	if v, err := strconv.ParseInt(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seed = v
	}
	if testing.Short() {
		n = min(n, 2)
	}
	res := Run(context.Background(), CampaignConfig{Seed: seed, Schedules: n, Parallel: 2,
		Gen: GenOptions{Restart: true, FailedStart: true, Clock: true}})
	t.Logf("%d schedules, %d steps, %d faults in %.1fs: %+v", res.Totals.Schedules, res.Totals.Steps, res.Totals.Faults, res.Seconds, res.Totals)
	for _, r := range res.Schedules {
		if r.Error != "" {
			t.Errorf("seed %d: %s", r.Seed, r.Error)
		}
		for _, f := range r.Findings {
			t.Errorf("%v", f)
		}
	}
}
