package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
)

// ResyncReport is what the resync preset found.
type ResyncReport struct {
	// Generated associations added at the UEM on top of the fleet, so
	// a resync lists many devices without as many simulated ones.
	Generated int `json:"generated"`
	// Listed is how many devices the last resync loaded.
	Listed   int   `json:"listed"`
	Resyncs  int   `json:"resyncs"`
	FirstMs  int64 `json:"first_resync_ms"`
	MeanMs   int64 `json:"mean_resync_ms"`
	MaxMs    int64 `json:"max_resync_ms"`
	Failures int   `json:"failures"`
	// Before, During and After are the fleet's non-Ping operations in
	// the first third of the run, while resyncs ran back to back (the
	// middle third) and in the last third.
	Before Window `json:"before"`
	During Window `json:"during"`
	After  Window `json:"after"`
}

// RunResync runs the spec against the lab's gateway and, in the middle
// third of the run, has it reload its device list from the UEM
// (`device-cache from-uem`, DC-19: every allowed device listed in pages
// and applied to the cache, the work of a full resync) back to back. With
// generated > 0 the UEM first gets that many synthetic associations, so
// the resync carries generated+fleet devices. It compares the fleet's
// latency and throughput before, during and after.
func RunResync(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, generated int) (*Results, *ResyncReport, error) {
	adm := l.GatewayAdmin()
	if adm == nil {
		return nil, nil, fmt.Errorf("resync: %w (it drives the bundled gateway's admin API)", lab.ErrNotSupported)
	}
	rep := &ResyncReport{Generated: generated}
	if generated > 0 {
		if err := l.UEM.Generate(uem.Generate{Devices: generated, Seed: spec.Seed + 1, Gateway: l.GatewayID()}); err != nil {
			return nil, nil, fmt.Errorf("resync: generate %d associations: %w", generated, err)
		}
	}
	dur := time.Duration(spec.Duration)
	runT0 := time.Now()
	orch, cancelOrch := context.WithCancel(ctx)
	defer cancelOrch()
	var (
		wg    sync.WaitGroup
		total time.Duration
	)
	wg.Go(func() {
		select {
		case <-orch.Done():
			return
		case <-time.After(dur / 3):
		}
		for first := true; first || time.Since(runT0) < 2*dur/3; first = false {
			t := time.Now()
			rctx, cancel := context.WithTimeout(orch, 5*time.Minute)
			n, err := adm.FromUEM(rctx)
			cancel()
			if orch.Err() != nil {
				return
			}
			d := time.Since(t)
			if err != nil {
				rep.Failures++
				continue
			}
			rep.Resyncs++
			rep.Listed = n.Count
			total += d
			rep.MaxMs = max(rep.MaxMs, d.Milliseconds())
			if rep.Resyncs == 1 {
				rep.FirstMs = d.Milliseconds()
			}
		}
	})
	res, err := Run(ctx, spec, opt)
	cancelOrch()
	wg.Wait()
	if res == nil {
		return nil, nil, err
	}
	if rep.Resyncs > 0 {
		rep.MeanMs = (total / time.Duration(rep.Resyncs)).Milliseconds()
	}
	third := int(dur / 3 / time.Second)
	// The first second of a third carries the one before's tail: the
	// windows are whole seconds [i·third+1, (i+1)·third); "before"
	// starts once a ramp has brought every device.
	steady := 1
	if spec.Arrival.Shape == "ramp" {
		steady = max(steady, min(int(time.Duration(spec.Arrival.Over)/time.Second)+1, third-1))
	}
	var werr error
	for i, w := range []*Window{&rep.Before, &rep.During, &rep.After} {
		from := i*third + 1
		if i == 0 {
			from = steady
		}
		var e error
		*w, e = window(res.Series, from, (i+1)*third)
		werr = errors.Join(werr, e)
	}
	if werr != nil {
		return nil, nil, werr
	}
	res.Extra = map[string]any{"preset": "resync", "resync": rep}
	if rep.Resyncs == 0 {
		res.Breaches = append(res.Breaches, fmt.Sprintf("resync: no resync completed (%d failed)", rep.Failures))
	}
	return res, rep, err
}
