package clock

import (
	"testing"
	"time"
)

func TestJumpingMovesTheWallClock(t *testing.T) {
	var j Jumping
	before := time.Now()
	j.Jump(-time.Hour)
	if now := j.Now(); !now.Before(before.Add(-59 * time.Minute)) {
		t.Fatalf("after a jump back by an hour: %v, system %v", now, before)
	}
	j.Jump(2 * time.Hour)
	if j.Offset() != time.Hour || !j.Now().After(time.Now().Add(59*time.Minute)) {
		t.Fatalf("offset %v, now %v", j.Offset(), j.Now())
	}
	if _, ok := Or(nil).(System); !ok {
		t.Fatal("Or(nil) is not the system clock")
	}
}
