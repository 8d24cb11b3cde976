package loadgen

import (
	"testing"
	"time"
)

// A bench's last sends can run seconds late on a loaded machine (seen:
// 399 of 400 reported sent, the server saw 400): they count in Sent and
// the achieved rate, past the seconds kept for WorstSecondPct.
func TestBenchPacingCountsLateSends(t *testing.T) {
	tally := newSendTally(2 * time.Second)
	for i := range 399 {
		tally.add(time.Duration(i) * 5 * time.Millisecond)
	}
	tally.add(4500 * time.Millisecond) // past Duration + 2 s
	p := tally.pacing(200, 2*time.Second)
	if p.Sent != 400 {
		t.Errorf("pacing %+v, want 400 sent", p)
	}
	if p.AchievedRate != 88.7 { // 399 intervals over 4.5 s
		t.Errorf("pacing %+v, want 88.7/s achieved", p)
	}
}
