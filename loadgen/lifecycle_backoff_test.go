package loadgen

import (
	"slices"
	"testing"
	"time"
)

// TestColdStartBackOffSchedule pins the cold-start retry waits to what the
// hand-written loop did: 100 ms doubling, capped at 1 s, no jitter.
func TestColdStartBackOffSchedule(t *testing.T) {
	b := coldStartBackOff()
	b.Reset()
	var got []time.Duration
	for range 7 {
		got = append(got, b.NextBackOff())
	}
	ms := time.Millisecond
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
}
