package loadgen

import "time"

// phases are the least lengths of a preset's three parts: before, during
// (the UEM outage, the back-to-back resyncs) and after. A part ends once
// its length has passed and what it measures was seen (a part that saw
// nothing measured nothing), the run's duration bounding them all.
// Zero lengths are a third of the duration each, the presets' default;
// tests give short ones under a long duration, so that the run ends on
// what it checks, not on the clock.
type phases struct{ before, during, after time.Duration }

// orThirds fills in the zero lengths with a third of dur.
func (p phases) orThirds(dur time.Duration) phases {
	for _, d := range []*time.Duration{&p.before, &p.during, &p.after} {
		if *d <= 0 {
			*d = dur / 3
		}
	}
	return p
}

// seconds is d in whole seconds (the time series' unit).
func seconds(d time.Duration) int { return int(d / time.Second) }

// chainTick runs first, then next (the caller's Tick, if any): the run
// goes on while both say so. Both see every second.
func chainTick(first, next func(Point, *Recorder) bool) func(Point, *Recorder) bool {
	if next == nil {
		return first
	}
	return func(p Point, rec *Recorder) bool {
		keep := first(p, rec)
		return next(p, rec) && keep
	}
}
