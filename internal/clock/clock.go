// Package clock is the wall clock the gateway reads for what a clock jump
// can affect (notification timestamps, replay windows, last-seen times):
// the system clock in production, a Jumping one that a test or a chaos
// schedule moves forward or backward. Timers and tickers stay monotonic
// (the time package's), as a real clock jump leaves them.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock tells the wall-clock time.
type Clock interface {
	Now() time.Time
}

// System is the system clock.
type System struct{}

// Now is time.Now.
func (System) Now() time.Time { return time.Now() }

// Or returns c, or the system clock when c is nil.
func Or(c Clock) Clock {
	if c == nil {
		return System{}
	}
	return c
}

// Jumping is the system clock plus an offset that Jump moves, as an NTP
// step or an administrator's date command moves a host's clock. Its zero
// value is the system clock; it is safe for concurrent use.
type Jumping struct {
	offset atomic.Int64 // nanoseconds
}

// Now is the system time plus the offset. The monotonic reading is
// dropped, so that comparisons use the jumped wall clock.
func (j *Jumping) Now() time.Time {
	return time.Now().Round(0).Add(time.Duration(j.offset.Load()))
}

// Jump moves the clock by d (negative: backward).
func (j *Jumping) Jump(d time.Duration) { j.offset.Add(int64(d)) }

// Offset is how far the clock was moved in all.
func (j *Jumping) Offset() time.Duration { return time.Duration(j.offset.Load()) }
