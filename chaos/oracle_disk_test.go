package chaos

import (
	"testing"
	"time"
)

// The disk rule: a block learnt while the data directory was unwritable
// may be lost across a restart only if the gateway logged the failed
// write, and only until it had a writable stretch of diskW after the
// disk's return.
func TestDiskExcused(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	block := fact{State: stBlocked, At: at(2), Deadline: at(2)}
	for name, tc := range map[string]struct {
		diskBroken [2]float64 // from, to (0 to: never healed)
		restart    float64
		logged     bool
		want       bool
	}{
		"full, logged, restart while full":          {[2]float64{1, 0}, 5, true, true},
		"full, not logged":                          {[2]float64{1, 0}, 5, false, false},
		"full, logged, restart soon after the heal": {[2]float64{1, 6}, 7, true, true},
		"full, logged, restart long after the heal": {[2]float64{1, 6}, 10, true, false},
		"full only before the block":                {[2]float64{0.5, 1}, 5, true, false},
		"full only after the restart":               {[2]float64{6, 0}, 5, true, false},
	} {
		t.Run(name, func(t *testing.T) {
			o := newOracle(1, 1, 5*time.Second, t0)
			o.diskW = 3 * time.Second
			o.writeFailed = func(string) bool { return tc.logged }
			o.disk.set(at(tc.diskBroken[0]), false)
			if tc.diskBroken[1] != 0 {
				o.disk.set(at(tc.diskBroken[1]), true)
			}
			o.restarts = append(o.restarts, at(tc.restart))
			if got := o.diskExcused(block, "D", at(20)); got != tc.want {
				t.Fatalf("excused %v, want %v", got, tc.want)
			}
		})
	}
}
