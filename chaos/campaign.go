package chaos

import (
	"context"
	"sync"
	"time"
)

// CampaignConfig is a campaign: Schedules seeds from Seed on, Parallel
// worlds at a time.
type CampaignConfig struct {
	World     WorldConfig
	Gen       GenOptions
	Seed      int64
	Schedules int
	Parallel  int // default 2
	// StopAfter ends the campaign after this many failing schedules
	// (0: run them all).
	StopAfter int
	// Progress, when set, sees every schedule's result as it ends.
	Progress func(ScheduleResult)
}

// Totals summarise a campaign (`gatehouse report` prints them).
type Totals struct {
	Schedules   int `json:"schedules"`
	Steps       int `json:"steps"`
	Faults      int `json:"faults_injected"`
	Skipped     int `json:"steps_skipped"`
	Errors      int `json:"world_errors"`
	Failing     int `json:"failing_schedules"`
	WrongAllows int `json:"wrong_allows"`
	WrongBlocks int `json:"wrong_blocks"`
	LostStates  int `json:"lost_states"`
	DoubleWipes int `json:"double_wipes"`
	WrongWipes  int `json:"wrong_wipes"`
	StalePolicy int `json:"stale_policies"`
}

// Result is a campaign's JSON result (`gatehouse chaos run --json`).
type Result struct {
	Kind      string           `json:"kind"` // "chaos"
	Mode      string           `json:"mode"`
	Seed      int64            `json:"seed"`
	Started   time.Time        `json:"started"`
	Seconds   float64          `json:"seconds"`
	Totals    Totals           `json:"totals"`
	Failures  []ScheduleResult `json:"failures,omitempty"`
	Shrunk    []Shrunk         `json:"shrunk,omitempty"`
	Schedules []ScheduleResult `json:"schedules,omitempty"`
}

// ResultKind marks a chaos result file.
const ResultKind = "chaos"

// Add counts one schedule's result.
func (t *Totals) Add(r ScheduleResult) {
	t.Schedules++
	t.Steps += r.Steps - r.Skipped
	t.Faults += r.Faults
	t.Skipped += r.Skipped
	if r.Error != "" {
		t.Errors++
	}
	if r.Failed() {
		t.Failing++
	}
	for _, f := range r.Findings {
		switch f.Kind {
		case WrongAllow:
			t.WrongAllows++
		case WrongBlock:
			t.WrongBlocks++
		case LostState:
			t.LostStates++
		case DoubleWipe:
			t.DoubleWipes++
		case WrongWipe:
			t.WrongWipes++
		case StalePolicy:
			t.StalePolicy++
		}
	}
}

// Run runs a campaign.
func Run(ctx context.Context, c CampaignConfig) Result {
	if c.Parallel <= 0 {
		c.Parallel = 2
	}
	if c.World.Mode == "external" {
		c.Parallel = 1 // one gateway, and the fakes on its fixed addresses
	}
	c.World.setDefaults()
	if c.World.Mode != "in-process" {
		c.Gen.Kill = c.Gen.Kill || c.World.Mode == "subprocess"
	}
	res := Result{Kind: ResultKind, Mode: string(c.World.Mode), Seed: c.Seed, Started: time.Now().UTC()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	seeds := make(chan int64)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range c.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				r := RunSchedule(ctx, c.World, Generate(seed, c.Gen))
				if ctx.Err() != nil && !r.Failed() {
					continue // cut short by StopAfter or the caller: not a result
				}
				mu.Lock()
				res.Totals.Add(r)
				res.Schedules = append(res.Schedules, r)
				if r.Failed() {
					res.Failures = append(res.Failures, r)
					if c.StopAfter > 0 && len(res.Failures) >= c.StopAfter {
						cancel()
					}
				}
				if c.Progress != nil {
					c.Progress(r)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := 0; i < c.Schedules; i++ {
		select {
		case seeds <- c.Seed + int64(i):
		case <-ctx.Done():
			break feed
		}
	}
	close(seeds)
	wg.Wait()
	res.Seconds = time.Since(res.Started).Seconds()
	return res
}
