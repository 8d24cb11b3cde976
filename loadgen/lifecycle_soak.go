package loadgen

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/lab"
)

// SoakSample is one sample of a soak run.
type SoakSample struct {
	T       int     `json:"t"` // seconds since the start
	Devices int64   `json:"devices"`
	OpsPerS float64 `json:"ops_per_s"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	// The gateway's memory from its admin API's metrics (0 when the
	// target is not the bundled gateway). An in-process lab shares the
	// load generator's process: use a subprocess gateway to separate them.
	HeapMB     float64 `json:"heap_inuse_mb,omitempty"`
	HeapLiveMB float64 `json:"heap_live_mb,omitempty"` // after the last collection
	GCCycles   float64 `json:"gc_cycles,omitempty"`    // collections so far
	RSSMB      float64 `json:"rss_mb,omitempty"`
	Goroutines float64 `json:"goroutines,omitempty"`
}

// SoakReport is what the soak preset found: the samples and the drift
// of latency and memory between the start of the steady part and its end.
type SoakReport struct {
	IntervalS int          `json:"interval_s"`
	Samples   []SoakSample `json:"samples"`
	// SteadyFromS is when every device had arrived; the drift is
	// measured over the samples from one interval later.
	SteadyFromS int `json:"steady_from_s"`
	// P99First and P99Last are the non-Ping p99 of the first and the last
	// steady sample intervals; P99DriftPct their change in percent.
	P99First    float64 `json:"p99_first_ms"`
	P99Last     float64 `json:"p99_last_ms"`
	P99DriftPct float64 `json:"p99_drift_pct"`
	// HeapSlopeMBPerH is the least-squares slope of the gateway's live
	// heap (heap in use when the gateway does not export it) over the
	// steady samples taken after a collection in the steady part (a leak
	// shows as a steady rise); HeapFirstMB and HeapLastMB are its ends.
	HeapFirstMB     float64 `json:"heap_first_mb,omitempty"`
	HeapLastMB      float64 `json:"heap_last_mb,omitempty"`
	HeapSlopeMBPerH float64 `json:"heap_slope_mb_per_h"`
}

// RunSoak runs the spec (a long steady mixed load) and samples the
// fleet's latency and, when l has the bundled gateway, the gateway's
// memory every interval; it reports the drift of both over the steady
// part of the run. l may be nil (a --target run: latency only).
func RunSoak(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, interval time.Duration) (*Results, *SoakReport, error) {
	return runSoak(ctx, l, spec, opt, interval, nil)
}

// runSoak is RunSoak; until, if not nil, sees the report summarised
// after each sample, and the run ends once it holds (the duration
// stays the bound).
func runSoak(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, interval time.Duration, until func(SoakReport) bool) (*Results, *SoakReport, error) {
	if interval < time.Second {
		return nil, nil, fmt.Errorf("soak: interval %v must be at least 1s", interval)
	}
	rep := &SoakReport{IntervalS: int(interval / time.Second), SteadyFromS: -1}
	shardDevices := int64(opt.Shard.Devices(spec.Devices))
	if opt.Shard.N == 0 {
		shardDevices = int64(spec.Devices)
	}
	var mu sync.Mutex
	var sec []Point
	var enough atomic.Bool
	opt.Tick = chainTick(func(p Point, _ *Recorder) bool {
		mu.Lock()
		sec = append(sec, p)
		if rep.SteadyFromS < 0 && p.Devices >= shardDevices {
			rep.SteadyFromS = p.T
		}
		mu.Unlock()
		return !enough.Load()
	}, opt.Tick)
	var adm interface {
		Metrics(context.Context) (map[string]float64, error)
	}
	if l != nil && l.GatewayAdmin() != nil {
		adm = l.GatewayAdmin()
	}
	runT0 := time.Now()
	orch, cancelOrch := context.WithCancel(ctx)
	defer cancelOrch()
	var wg sync.WaitGroup
	last := 0 // sec[:last] are sampled (under mu)
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-orch.Done():
				return
			case now := <-t.C:
				s := SoakSample{T: int(now.Sub(runT0).Round(time.Second) / time.Second)}
				mu.Lock()
				pts := sec[last:]
				last = len(sec)
				if len(sec) > 0 {
					s.Devices = sec[len(sec)-1].Devices
				}
				mu.Unlock()
				if len(pts) > 0 {
					w, _ := window(pts, pts[0].T, pts[len(pts)-1].T+1)
					s.OpsPerS, s.P50ms, s.P99ms = w.OpsPerS, w.P50ms, w.P99ms
				}
				if adm != nil {
					mctx, cancel := context.WithTimeout(orch, 10*time.Second)
					m, err := adm.Metrics(mctx)
					cancel()
					if err != nil {
						continue // the run is ending, or the gateway did not answer: no sample
					}
					s.HeapMB = m["go_memstats_heap_inuse_bytes"] / (1 << 20)
					s.HeapLiveMB = m["go_gc_heap_live_bytes"] / (1 << 20)
					s.GCCycles = m["go_gc_cycles_total_gc_cycles_total"]
					s.RSSMB = m["process_resident_memory_bytes"] / (1 << 20)
					s.Goroutines = m["go_goroutines"]
				}
				mu.Lock()
				rep.Samples = append(rep.Samples, s)
				sofar := *rep
				sofar.Samples = slices.Clone(rep.Samples)
				mu.Unlock()
				if until != nil {
					sofar.summarise()
					enough.Store(enough.Load() || until(sofar))
				}
			}
		}
	})
	res, err := Run(ctx, spec, opt)
	cancelOrch()
	wg.Wait()
	if res == nil {
		return nil, nil, err
	}
	rep.summarise()
	res.Extra = map[string]any{"preset": "soak", "soak": rep}
	return res, rep, err
}

// summarise computes the drift over the samples taken once every
// device had arrived.
func (rep *SoakReport) summarise() {
	var steady []SoakSample
	for _, s := range rep.Samples {
		// A device counts from its arrival, its first contact runs after:
		// skip one more interval.
		if rep.SteadyFromS >= 0 && s.T-rep.IntervalS > rep.SteadyFromS && s.OpsPerS > 0 {
			steady = append(steady, s)
		}
	}
	if len(steady) == 0 {
		return
	}
	first, last := steady[0], steady[len(steady)-1]
	rep.P99First, rep.P99Last = first.P99ms, last.P99ms
	if first.P99ms > 0 {
		rep.P99DriftPct = math.Round(1000*(last.P99ms-first.P99ms)/first.P99ms) / 10
	}
	heap := func(s SoakSample) float64 {
		if s.HeapLiveMB > 0 {
			return s.HeapLiveMB
		}
		return s.HeapMB
	}
	// The live heap is as the last collection found it: with the
	// gateway's collector floor that can be minutes old, so only samples
	// taken after a collection inside the steady part count.
	mem := steady
	if g := steady[0].GCCycles; g > 0 {
		mem = nil
		for _, s := range steady {
			if s.GCCycles > g {
				mem = append(mem, s)
			}
		}
	}
	if len(mem) == 0 {
		return
	}
	rep.HeapFirstMB, rep.HeapLastMB = heap(mem[0]), heap(mem[len(mem)-1])
	if len(mem) >= 2 && rep.HeapLastMB > 0 {
		// Least squares of heap over time.
		var sx, sy, sxx, sxy float64
		for _, s := range mem {
			x := float64(s.T) / 3600
			sx, sy, sxx, sxy = sx+x, sy+heap(s), sxx+x*x, sxy+x*heap(s)
		}
		n := float64(len(mem))
		if d := n*sxx - sx*sx; d > 0 {
			rep.HeapSlopeMBPerH = math.Round(10*(n*sxy-sx*sy)/d) / 10
		}
	}
}
