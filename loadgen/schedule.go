package loadgen

import (
	"context"
	"math"
	"time"
)

// RateFunc is an event rate (per second) at t since the start.
type RateFunc func(t time.Duration) float64

// ArrivalRate is the spec's device arrival rate for one shard of n (the
// rate is divided among shards; a ramp spreads the shard's devices).
func (a Arrival) ArrivalRate(shardDevices, shards int) RateFunc {
	n := float64(shards)
	switch a.Shape {
	case "ramp":
		over := time.Duration(a.Over)
		// Half a device more, so the last one falls inside the ramp
		// despite rounding; arrivals stop at shardDevices anyway.
		r := (float64(shardDevices) + 0.5) / over.Seconds()
		return func(t time.Duration) float64 {
			if t < over {
				return r
			}
			return 0
		}
	case "constant":
		return func(time.Duration) float64 { return a.Rate / n }
	case "linear":
		over := time.Duration(a.Over)
		return func(t time.Duration) float64 {
			f := min(t.Seconds()/over.Seconds(), 1)
			return (a.From + (a.To-a.From)*f) / n
		}
	case "sine":
		p := time.Duration(a.Period).Seconds()
		return func(t time.Duration) float64 {
			return (a.Rate + a.Amplitude*math.Sin(2*math.Pi*t.Seconds()/p)) / n
		}
	case "steps":
		return func(t time.Duration) float64 {
			r := 0.0
			for _, s := range a.Steps {
				if t >= time.Duration(s.At) {
					r = s.Rate
				}
			}
			return r / n
		}
	}
	return func(time.Duration) float64 { return 0 }
}

// pace calls fire with the intended time of each event of an
// inhomogeneous process with rate(t), spaced deterministically (the
// k-th event is where the integral of the rate reaches k), from start
// until start+length or until ctx ends. It never fires before the
// intended time; when it falls behind it fires the overdue events at
// once, with their original intended times, so the lag is measured
// (no coordinated omission). It returns the number of events fired.
//
// The rate is integrated in steps of at most 1ms, exactly for piecewise
// constant rates; it is evaluated no further ahead than the next event,
// so a rate that depends on the present (devices online) stays current.
func pace(ctx context.Context, start time.Time, length time.Duration, rate RateFunc, fire func(intended time.Time)) int64 {
	const step = time.Millisecond
	var (
		n   int64
		acc float64 // fraction of the next event accumulated
		t   time.Duration
	)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for t < length {
		// Do not run ahead of the clock by more than a step.
		if ahead := t - time.Since(start); ahead > step {
			timer.Reset(ahead)
			select {
			case <-ctx.Done():
				return n
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return n
		}
		r := rate(t)
		dt := min(step, length-t)
		if r <= 0 {
			t += dt
			continue
		}
		if need := (1 - acc) / r; need <= dt.Seconds() {
			t += time.Duration(need * float64(time.Second))
			acc = 0
			intended := start.Add(t)
			if wait := time.Until(intended); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return n
				case <-timer.C:
				}
			}
			fire(intended)
			n++
			continue
		}
		acc += r * dt.Seconds()
		t += dt
	}
	return n
}

// integrate is the number of events rate schedules in [0, length).
func integrate(rate RateFunc, length time.Duration) float64 {
	const step = time.Millisecond
	n := 0.0
	for t := time.Duration(0); t < length; t += step {
		n += rate(t) * min(step, length-t).Seconds()
	}
	return n
}
