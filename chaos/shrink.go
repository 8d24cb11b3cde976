package chaos

import "context"

// Shrunk is a failing schedule reduced by delta debugging.
type Shrunk struct {
	Seed     int64     `json:"seed"`
	From     int       `json:"from_steps"`
	Steps    int       `json:"steps"`
	Runs     int       `json:"runs"`
	Kind     string    `json:"kind"`
	Schedule *Schedule `json:"schedule"`
	Findings []Finding `json:"findings"`
}

// Shrink reduces s to a short step list that still fails with a finding
// of the same kind as its first (ddmin over the steps; each candidate is
// run in a new world, up to tries times, since faults race the gateway's
// timers). maxRuns bounds the worlds started.
func Shrink(ctx context.Context, cfg WorldConfig, s *Schedule, tries, maxRuns int) (Shrunk, bool) {
	if tries <= 0 {
		tries = 2
	}
	if maxRuns <= 0 {
		maxRuns = 300
	}
	first := RunSchedule(ctx, cfg, s)
	if !first.Failed() {
		return Shrunk{}, false
	}
	kind := first.Findings[0].Kind
	out := Shrunk{Seed: s.Seed, From: len(s.Steps), Kind: kind, Runs: 1, Findings: first.Findings}
	fails := func(steps []Step) ([]Finding, bool) {
		c := *s
		c.Steps = steps
		for range tries {
			if out.Runs >= maxRuns || ctx.Err() != nil {
				return nil, false
			}
			out.Runs++
			r := RunSchedule(ctx, cfg, &c)
			for _, f := range r.Findings {
				if sameFamily(f.Kind, kind) {
					return r.Findings, true
				}
			}
		}
		return nil, false
	}
	steps := append([]Step(nil), s.Steps...)
	// A finding at step k needs nothing after it.
	if k := first.Findings[0].Step; k+1 < len(steps) {
		if fs, ok := fails(steps[:k+1]); ok {
			steps, out.Findings = steps[:k+1], fs
		}
	}
	steps = ddmin(steps, func(cand []Step) bool {
		if out.Runs >= maxRuns || ctx.Err() != nil {
			return false
		}
		fs, ok := fails(cand)
		if ok {
			out.Findings = fs
		}
		return ok
	})
	c := *s
	c.Steps = steps
	out.Schedule, out.Steps = &c, len(steps)
	return out, true
}

// sameFamily: a lost state is a wrong allow (or a second wipe) that a
// restart explains; a shrunk schedule without the restart that still
// lets the device in shows the same defect.
func sameFamily(a, b string) bool {
	fam := func(k string) string {
		if k == LostState {
			return WrongAllow
		}
		return k
	}
	return a == b || fam(a) == fam(b) || (a == LostState && b == DoubleWipe) || (a == DoubleWipe && b == LostState)
}

// ddmin is Zeller's delta debugging over steps (complements only: a
// schedule needs its set-up): it removes chunks while fails holds,
// halving the chunk size when none can go, down to single steps.
func ddmin(steps []Step, fails func([]Step) bool) []Step {
	n := 2
	for len(steps) >= 2 {
		chunk := (len(steps) + n - 1) / n
		reduced := false
		for start := 0; start < len(steps); start += chunk {
			end := min(start+chunk, len(steps))
			cand := append(append([]Step(nil), steps[:start]...), steps[end:]...)
			if len(cand) > 0 && fails(cand) {
				steps, n, reduced = cand, max(n-1, 2), true
				break
			}
		}
		if !reduced {
			if n >= len(steps) {
				break
			}
			n = min(n*2, len(steps))
		}
	}
	return steps
}
