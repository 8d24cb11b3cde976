package chaos

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// TestCampaign runs a short in-process campaign with the bundled gateway
// and expects no findings. CHAOS_SCHEDULES and CHAOS_SEED change its size
// and start (CI runs the short default).
func TestCampaign(t *testing.T) {
	n, seed := 4, int64(1)
	if v, err := strconv.Atoi(os.Getenv("CHAOS_SCHEDULES")); err == nil {
		n = v
	}
	if v, err := strconv.ParseInt(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seed = v
	}
	if testing.Short() {
		n = min(n, 2)
	}
	res := Run(context.Background(), CampaignConfig{Seed: seed, Schedules: n, Parallel: 2,
		Gen: GenOptions{Restart: true, FailedStart: true}})
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
