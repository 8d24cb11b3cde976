package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// The coldstart, resync and soak presets: what a gateway costs over its
// life cycle (a restart, a full resync, hours of steady load) rather than
// at its peak. Each drives the lab (lab.Lab) it is given, as RunFailOpen
// does, and returns the usual Results plus a small report.

// ColdStartReport is what the coldstart preset found.
type ColdStartReport struct {
	Devices   int  `json:"devices"`   // devices connected before the restart
	Persisted int  `json:"persisted"` // devices the gateway wrote to disk before it
	UEMDown   bool `json:"uem_down"`  // the UEM was down during the restart
	Purged    bool `json:"purged"`    // the cache was emptied before it (control)
	// Registered: the devices were registered at the UEM (managed).
	Registered bool `json:"registered"`
	// RestartMs is from the stop until the gateway answered again (it
	// answers once its cache is initialised: from the UEM, else from disk).
	RestartMs int64 `json:"restart_ms"`
	// StopMs of it is the graceful stop (the gateway writes its list).
	StopMs int64 `json:"stop_ms"`
	Served int   `json:"served"` // devices answered after the restart
	// ServedFromCache: served without a first access (no device report
	// reached the UEM, no fail-open entry was made for them).
	ServedFromCache int `json:"served_from_cache"`
	// Served50Ms, Served99Ms, Served100Ms: from the stop until 50 %,
	// 99 %, all of the devices had been served (-1: never).
	Served50Ms  int64 `json:"served_50pct_ms"`
	Served99Ms  int64 `json:"served_99pct_ms"`
	Served100Ms int64 `json:"served_100pct_ms"`
	// FirstAccessReports are the device reports the UEM answered after
	// the restart; FailOpenEntries the fleet devices the gateway let in
	// by fail-open (unvalidated) after it. Both are first accesses a
	// warm cache avoids.
	FirstAccessReports int64 `json:"first_access_reports"`
	FailOpenEntries    int   `json:"fail_open_entries"`
}

// ColdStartConfig says how the coldstart preset restarts the gateway.
type ColdStartConfig struct {
	// UEMDown takes the UEM down before the restart (the gateway starts
	// from its persistent list) and brings it back at the end.
	UEMDown bool
	// Purge empties the gateway's cache and persistent list before the
	// restart: the control run, where every device is a first access.
	Purge bool
	// Unregistered leaves the devices unknown to the UEM's device
	// inventory (ActiveSync-only phones). By default each is registered
	// as a managed device first: a gateway initialised from the UEM
	// loads only registered allowed devices (FLOW-10), so unregistered
	// ones are first accesses again after a restart with the UEM up.
	Unregistered bool
}

// coldStartBackOff is the wait between a restarted-gateway device's Sync
// attempts: 100 ms, doubling to at most 1 s, no jitter (the devices
// already come back spread by max_in_flight).
func coldStartBackOff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{InitialInterval: 100 * time.Millisecond, Multiplier: 2, MaxInterval: time.Second}
}

// RunColdStart connects spec.Devices devices through the lab's gateway,
// has it write them to disk, takes the UEM down if uemDown, restarts
// the gateway (StopGateway, StartGateway: a real process restart in
// lab.Subprocess mode) and then has every device Sync again, retrying
// until it is served or spec.Duration has passed since the restart. It
// reports how long until 99 % of the devices were served, and whether
// they were served from the cache (no first-access report, no fail-open).
func RunColdStart(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, cfg ColdStartConfig) (*Results, *ColdStartReport, error) {
	uemDown := cfg.UEMDown
	adm := l.GatewayAdmin()
	if adm == nil {
		return nil, nil, fmt.Errorf("coldstart: %w (it restarts the bundled gateway)", lab.ErrNotSupported)
	}
	r, done, err := newRunner(spec, opt)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	r.start = time.Now()
	r.rec = NewRecorder(r.start)
	rep := &ColdStartReport{UEMDown: uemDown, Purged: cfg.Purge, Registered: !cfg.Unregistered, Served50Ms: -1, Served99Ms: -1, Served100Ms: -1}

	var register func(*Member) error
	if !cfg.Unregistered {
		register = func(m *Member) error {
			c := m.D.Config()
			_, err := l.UEM.AddDevice(uem.Device{UUID: "loadgen-" + c.ID, UserID: c.User, Platform: string(c.Platform), EASDeviceIDs: []string{c.ID}})
			return err
		}
	}
	members, err := r.connectAll(ctx, spec.Devices, register)
	if err != nil {
		return nil, nil, err
	}
	rep.Devices = len(members)
	if rep.Devices == 0 {
		return nil, nil, errors.New("coldstart: no device could connect before the restart")
	}
	if cfg.Purge {
		if _, err := adm.PurgeAll(ctx); err != nil {
			return nil, nil, fmt.Errorf("coldstart: purge: %w", err)
		}
	}
	cnt, err := adm.ToDisk(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("coldstart: write the device list: %w", err)
	}
	rep.Persisted = cnt.Count
	if uemDown {
		if err := l.SetUEMDown(true); err != nil {
			return nil, nil, err
		}
		defer func() { _ = l.SetUEMDown(false) }()
	}
	reportsBefore := l.UEM.DeviceReports()
	t0 := time.Now()
	if err := l.StopGateway(ctx); err != nil {
		return nil, nil, fmt.Errorf("coldstart: stop the gateway: %w", err)
	}
	rep.StopMs = time.Since(t0).Milliseconds()
	if err := l.StartGateway(ctx); err != nil {
		return nil, nil, fmt.Errorf("coldstart: start the gateway: %w", err)
	}
	rep.RestartMs = time.Since(t0).Milliseconds()

	// Every device comes back at once (phones reconnect when the gateway
	// does), at most max_in_flight of them in flight.
	deadline := t0.Add(time.Duration(spec.Duration))
	served := newHist()
	var mu sync.Mutex
	sem := make(chan struct{}, spec.MaxInFlight)
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Go(func() {
			left := time.Until(deadline)
			if left <= 0 || ctx.Err() != nil {
				return
			}
			// Until served, decided or out of time: no attempt starts after
			// the deadline.
			_, _ = backoff.Retry(ctx, func() (struct{}, error) {
				sem <- struct{}{}
				sent := time.Now()
				sctx, cancel := context.WithDeadline(ctx, deadline)
				_, err := m.D.Sync(sctx)
				cancel()
				<-sem
				r.rec.Record("Sync", err, time.Since(sent))
				switch {
				case err == nil:
					mu.Lock()
					_ = served.RecordValue(max(time.Since(t0).Microseconds(), histMin))
					mu.Unlock()
					r.rec.RecordStatus("Served", StatusOK, time.Since(t0))
				case errors.Is(err, device.ErrBlocked) || errors.Is(err, device.ErrWiped):
					err = backoff.Permanent(err) // a decision, not an outage: retrying changes nothing
				}
				return struct{}{}, err
			}, backoff.WithBackOff(coldStartBackOff()), backoff.WithMaxElapsedTime(left))
		})
	}
	wg.Wait()
	rep.Served = int(served.TotalCount())
	at := func(q float64) int64 {
		if float64(rep.Served) < q/100*float64(rep.Devices) {
			return -1
		}
		return served.ValueAtQuantile(min(100, q*float64(rep.Devices)/float64(rep.Served))) / 1000
	}
	rep.Served50Ms, rep.Served99Ms, rep.Served100Ms = at(50), at(99), at(100)
	rep.FirstAccessReports = l.UEM.DeviceReports() - reportsBefore
	pending, err := adm.ValidationPending(ctx, true)
	if err != nil {
		return nil, nil, fmt.Errorf("coldstart: list unvalidated devices: %w", err)
	}
	ids := make(map[string]bool, len(members))
	for _, m := range members {
		ids[m.D.ID()] = true
	}
	for _, e := range pending {
		if ids[e.DeviceID] {
			rep.FailOpenEntries++
		}
	}
	rep.ServedFromCache = max(0, rep.Served-rep.FailOpenEntries-int(rep.FirstAccessReports))

	res := r.rec.Results()
	res.Name = spec.Name
	res.DurationS = time.Since(r.start).Seconds()
	res.DevicesPlanned = int64(spec.Devices)
	res.Runs = []string{fmt.Sprintf("%s run %s", spec.Name, r.opt.RunID)}
	if _, err := res.Check(spec.Thresholds); err != nil {
		return nil, nil, err
	}
	res.Extra = map[string]any{"preset": "coldstart", "coldstart": rep}
	if rep.Served99Ms < 0 {
		res.Breaches = append(res.Breaches, fmt.Sprintf("coldstart: %d of %d devices served within %v of the restart (99 %% must be)", rep.Served, rep.Devices, time.Duration(spec.Duration)))
	}
	return res, rep, ctx.Err()
}

// connectAll brings the fleet's first n devices online (first contact:
// Provision for new ones, FolderSync, Sync), max_in_flight (at most 256)
// at a time, and returns those that got in. before, if not nil, sees
// each device before it connects.
func (r *runner) connectAll(ctx context.Context, n int, before func(*Member) error) ([]*Member, error) {
	var (
		mu  sync.Mutex
		out []*Member
		wg  sync.WaitGroup
	)
	sem := make(chan struct{}, min(r.spec.MaxInFlight, 256))
	for j := range n {
		if ctx.Err() != nil {
			break
		}
		m, err := r.newMember(j)
		if err != nil {
			return nil, fmt.Errorf("loadgen: device %d: %w", j, err)
		}
		if before != nil {
			if err := before(m); err != nil {
				return nil, fmt.Errorf("loadgen: device %s: %w", m.D.ID(), err)
			}
		}
		sem <- struct{}{}
		r.rec.devices.Add(1)
		wg.Go(func() {
			defer func() { <-sem }()
			if r.firstContact(ctx, m, time.Now()) == StatusOK {
				mu.Lock()
				out = append(out, m)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, ctx.Err()
}

// Window summarises the non-Ping operations of some seconds of a run.
type Window struct {
	FromS   int     `json:"from_s"`
	ToS     int     `json:"to_s"` // exclusive
	Ops     int64   `json:"ops"`
	OpsPerS float64 `json:"ops_per_s"`
	Errors  int64   `json:"errors"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
}

// window merges the per-second histograms of series in [from, to).
func window(series []Point, from, to int) (Window, error) {
	w := Window{FromS: from, ToS: to}
	h := newHist()
	for _, p := range series {
		if p.T < from || p.T >= to {
			continue
		}
		w.Ops += p.Ops
		w.Errors += p.Errors
		ph, err := decodeHist(p.Hist)
		if err != nil {
			return w, err
		}
		h.Merge(ph)
	}
	if to > from {
		w.OpsPerS = float64(w.Ops) / float64(to-from)
	}
	w.P50ms, w.P99ms = ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(99))
	return w, nil
}

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
	opt.Tick = func(p Point, _ *Recorder) bool {
		mu.Lock()
		sec = append(sec, p)
		if rep.SteadyFromS < 0 && p.Devices >= shardDevices {
			rep.SteadyFromS = p.T
		}
		mu.Unlock()
		return true
	}
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
				mu.Unlock()
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

// GatewayMemory is the bundled gateway's memory and cache size at one
// moment, from its admin API (metrics and device-cache status).
type GatewayMemory struct {
	HeapInuseMB  float64 `json:"heap_inuse_mb"`
	HeapLiveMB   float64 `json:"heap_live_mb,omitempty"` // after the last collection
	RSSMB        float64 `json:"rss_mb"`
	Goroutines   float64 `json:"goroutines"`
	CacheEntries int     `json:"cache_entries"`
}

// ReadGatewayMemory samples the lab's gateway (an in-process gateway
// shares the load generator's process: use lab.Subprocess to separate).
func ReadGatewayMemory(ctx context.Context, l *lab.Lab) (GatewayMemory, error) {
	adm := l.GatewayAdmin()
	if adm == nil {
		return GatewayMemory{}, lab.ErrNotSupported
	}
	m, err := adm.Metrics(ctx)
	if err != nil {
		return GatewayMemory{}, err
	}
	cs, err := adm.CacheStatus(ctx)
	if err != nil {
		return GatewayMemory{}, err
	}
	return GatewayMemory{HeapInuseMB: m["go_memstats_heap_inuse_bytes"] / (1 << 20), HeapLiveMB: m["go_gc_heap_live_bytes"] / (1 << 20),
		RSSMB:      m["process_resident_memory_bytes"] / (1 << 20),
		Goroutines: m["go_goroutines"], CacheEntries: cs.InMemory}, nil
}

// CapacityMemory is the gateway's memory before and at the end of a
// capacity run, and what a device costs it.
type CapacityMemory struct {
	Before GatewayMemory `json:"before"`
	After  GatewayMemory `json:"after"`
	// HeapKBPerDevice is the growth of the live heap (heap in use when
	// the gateway does not export it) per device that arrived: its cache
	// entry, its connection and its hanging Ping.
	HeapKBPerDevice float64 `json:"heap_kb_per_device"`
	RSSKBPerDevice  float64 `json:"rss_kb_per_device"`
}

// RunCapacityLab is RunCapacity against the lab's gateway, reporting
// its memory per device as well (Extra "gateway_memory"): the gateway is
// sampled at each second that kept to the thresholds, and the last of
// them, the devices held, gives the cost per device.
func RunCapacityLab(ctx context.Context, l *lab.Lab, spec *Spec, opt Options) (*Results, error) {
	var mem CapacityMemory
	var err error
	if mem.Before, err = ReadGatewayMemory(ctx, l); err != nil {
		return nil, fmt.Errorf("capacity: %w", err)
	}
	var (
		after   GatewayMemory
		devices int64
	)
	res, err := runCapacity(ctx, spec, opt, func(p Point) {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if m, err := ReadGatewayMemory(sctx, l); err == nil {
			after, devices = m, p.Devices
		}
	})
	if res == nil {
		return nil, err
	}
	if devices > 0 {
		mem.After = after
		n := float64(devices)
		grew := after.HeapInuseMB - mem.Before.HeapInuseMB
		if after.HeapLiveMB > 0 {
			grew = after.HeapLiveMB - mem.Before.HeapLiveMB
		}
		mem.HeapKBPerDevice = math.Round(10*grew*1024/n) / 10
		mem.RSSKBPerDevice = math.Round(10*(after.RSSMB-mem.Before.RSSMB)*1024/n) / 10
		res.Extra["gateway_memory"] = mem
	}
	return res, err
}
