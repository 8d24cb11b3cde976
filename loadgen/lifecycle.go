package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/cenkalti/backoff/v5"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
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
	rep := &ColdStartReport{UEMDown: cfg.UEMDown, Purged: cfg.Purge, Registered: !cfg.Unregistered, Served50Ms: -1, Served99Ms: -1, Served100Ms: -1}

	var register func(*Member) error
	if !cfg.Unregistered {
		register = func(m *Member) error { return registerAtUEM(l, m) }
	}
	members, err := r.connectAll(ctx, spec.Devices, register)
	if err != nil {
		return nil, nil, err
	}
	rep.Devices = len(members)
	if rep.Devices == 0 {
		return nil, nil, errors.New("coldstart: no device could connect before the restart")
	}
	if err := persistCache(ctx, adm, cfg.Purge, rep); err != nil {
		return nil, nil, err
	}
	if cfg.UEMDown {
		if err := l.SetUEMDown(true); err != nil {
			return nil, nil, err
		}
		defer func() { _ = l.SetUEMDown(false) }()
	}
	reportsBefore := l.UEM.DeviceReports()
	t0, err := restartGateway(ctx, l, rep)
	if err != nil {
		return nil, nil, err
	}

	served := r.syncUntilServed(ctx, members, t0, t0.Add(time.Duration(spec.Duration)))
	rep.setServed(served)
	rep.FirstAccessReports = l.UEM.DeviceReports() - reportsBefore
	if rep.FailOpenEntries, err = failOpenEntries(ctx, adm, members); err != nil {
		return nil, nil, err
	}
	rep.ServedFromCache = max(0, rep.Served-rep.FailOpenEntries-int(rep.FirstAccessReports))

	res, err := r.coldStartResults(spec, rep)
	if err != nil {
		return nil, nil, err
	}
	return res, rep, ctx.Err()
}

// registerAtUEM adds m to the UEM's inventory as a managed device.
func registerAtUEM(l *lab.Lab, m *Member) error {
	c := m.D.Config()
	_, err := l.UEM.AddDevice(uem.Device{UUID: "loadgen-" + c.ID, UserID: c.User, Platform: string(c.Platform), EASDeviceIDs: []string{c.ID}})
	return err
}

// persistCache has the gateway write its device list to disk, emptying
// its cache first with purge (the control run).
func persistCache(ctx context.Context, adm *admin.Client, purge bool, rep *ColdStartReport) error {
	if purge {
		if _, err := adm.PurgeAll(ctx); err != nil {
			return fmt.Errorf("coldstart: purge: %w", err)
		}
	}
	cnt, err := adm.ToDisk(ctx)
	if err != nil {
		return fmt.Errorf("coldstart: write the device list: %w", err)
	}
	rep.Persisted = cnt.Count
	return nil
}

// restartGateway stops and starts the lab's gateway, timing both into
// rep, and returns when the stop began.
func restartGateway(ctx context.Context, l *lab.Lab, rep *ColdStartReport) (time.Time, error) {
	t0 := time.Now()
	if err := l.StopGateway(ctx); err != nil {
		return t0, fmt.Errorf("coldstart: stop the gateway: %w", err)
	}
	rep.StopMs = time.Since(t0).Milliseconds()
	if err := l.StartGateway(ctx); err != nil {
		return t0, fmt.Errorf("coldstart: start the gateway: %w", err)
	}
	rep.RestartMs = time.Since(t0).Milliseconds()
	return t0, nil
}

// syncUntilServed has every member Sync, retrying until it is served,
// decided (blocked or wiped) or deadline has passed, and returns the
// times since t0 at which they were served. Every device comes back at
// once (phones reconnect when the gateway does), at most max_in_flight
// of them in flight.
func (r *runner) syncUntilServed(ctx context.Context, members []*Member, t0, deadline time.Time) *hdr.Histogram {
	served := newHist()
	var mu sync.Mutex
	sem := make(chan struct{}, r.spec.MaxInFlight)
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
	return served
}

// setServed sets Served and the times until 50 %, 99 % and all of the
// devices had been served (-1: never) from the serving times.
func (rep *ColdStartReport) setServed(served *hdr.Histogram) {
	rep.Served = int(served.TotalCount())
	at := func(q float64) int64 {
		if float64(rep.Served) < q/100*float64(rep.Devices) {
			return -1
		}
		return served.ValueAtQuantile(min(100, q*float64(rep.Devices)/float64(rep.Served))) / 1000
	}
	rep.Served50Ms, rep.Served99Ms, rep.Served100Ms = at(50), at(99), at(100)
}

// failOpenEntries counts the members the gateway let in unvalidated.
func failOpenEntries(ctx context.Context, adm *admin.Client, members []*Member) (int, error) {
	pending, err := adm.ValidationPending(ctx, true)
	if err != nil {
		return 0, fmt.Errorf("coldstart: list unvalidated devices: %w", err)
	}
	ids := make(map[string]bool, len(members))
	for _, m := range members {
		ids[m.D.ID()] = true
	}
	n := 0
	for _, e := range pending {
		if ids[e.DeviceID] {
			n++
		}
	}
	return n, nil
}

// coldStartResults is the run's Results with rep as its extra, checked
// against the thresholds, and a breach when 99 % were not served in time.
func (r *runner) coldStartResults(spec *Spec, rep *ColdStartReport) (*Results, error) {
	res := r.rec.Results()
	res.Name = spec.Name
	res.DurationS = time.Since(r.start).Seconds()
	res.DevicesPlanned = int64(spec.Devices)
	res.Runs = []string{fmt.Sprintf("%s run %s", spec.Name, r.opt.RunID)}
	if _, err := res.Check(spec.Thresholds); err != nil {
		return nil, err
	}
	res.Extra = map[string]any{"preset": "coldstart", "coldstart": rep}
	if rep.Served99Ms < 0 {
		res.Breaches = append(res.Breaches, fmt.Sprintf("coldstart: %d of %d devices served within %v of the restart (99 %% must be)", rep.Served, rep.Devices, time.Duration(spec.Duration)))
	}
	return res, nil
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
