package loadgen

import (
	"context"
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
	// Before, During and After are the fleet's non-Ping operations
	// before the resyncs, while they ran back to back and after them
	// (about a third of the run each).
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
// latency and throughput before, during and after. A part lasts longer
// than its third while it has measured no operation of the fleet (and
// the resyncs until one completed), at most until the run's end.
func RunResync(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, generated int) (*Results, *ResyncReport, error) {
	return runResync(ctx, l, spec, opt, generated, phases{})
}

// runResync is RunResync with the parts' least lengths (zero: thirds).
func runResync(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, generated int, ph phases) (*Results, *ResyncReport, error) {
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
	rp := newResyncParts(ph.orThirds(time.Duration(spec.Duration)), int64(opt.Shard.Devices(spec.Devices)), rep)
	opt.Tick = chainTick(rp.tick, opt.Tick)
	orch, cancelOrch := context.WithCancel(ctx)
	defer cancelOrch()
	var wg sync.WaitGroup
	wg.Go(func() { rp.resyncs(orch, adm) })
	res, err := Run(ctx, spec, opt)
	cancelOrch()
	wg.Wait()
	if res == nil {
		return nil, nil, err
	}
	if rep.Resyncs > 0 {
		rep.MeanMs = (rp.total / time.Duration(rep.Resyncs)).Milliseconds()
	}
	if werr := rp.windows(res.Series); werr != nil {
		return nil, nil, werr
	}
	res.Extra = map[string]any{"preset": "resync", "resync": rep}
	if rep.Resyncs == 0 {
		res.Breaches = append(res.Breaches, fmt.Sprintf("resync: no resync completed (%d failed)", rep.Failures))
	}
	return res, rep, err
}
