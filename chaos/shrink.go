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
				if f.Kind == kind {
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
	n := 2
	for len(steps) >= 2 && ctx.Err() == nil && out.Runs < maxRuns {
		chunk := (len(steps) + n - 1) / n
		reduced := false
		for start := 0; start < len(steps); start += chunk {
			end := min(start+chunk, len(steps))
			cand := append(append([]Step(nil), steps[:start]...), steps[end:]...)
			if len(cand) == 0 {
				continue
			}
			if fs, ok := fails(cand); ok {
				steps, out.Findings = cand, fs
				n = max(n-1, 2)
				reduced = true
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
	c := *s
	c.Steps = steps
	out.Schedule, out.Steps = &c, len(steps)
	return out, true
}
