package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// FailOpenReport is what the failopen preset found.
type FailOpenReport struct {
	BlockedDevices int `json:"blocked_devices"`
	// WrongAllow: a request of a device blocked before the outage was
	// served during it.
	WrongAllow int64 `json:"wrong_allow"`
	// WrongBlock: a fleet device (none is blocked at the UEM) was
	// blocked, new devices arriving during the outage included.
	WrongBlock int64 `json:"wrong_block"`
	// NewDuringOutage: new devices whose first contact began after the
	// UEM went down and got in before it came back (let in by fail-open).
	NewDuringOutage  int64   `json:"new_devices_during_outage"`
	BlockedChecks    int64   `json:"blocked_device_checks"`
	OutageFromS      float64 `json:"outage_from_s"`
	OutageToS        float64 `json:"outage_to_s"`
	GatewayLearnedMs int64   `json:"block_seen_after_ms"`
}

// blockVictims connects n devices, blocks them at the UEM and waits
// (bounded) until the gateway enforces every block.
func blockVictims(ctx context.Context, l *lab.Lab, n int, runID string) ([]*device.Device, error) {
	users := l.Users()
	var victims []*device.Device
	for i := range n {
		u := users[i%len(users)]
		d, err := l.NewDevice(device.Config{ID: fmt.Sprintf("LGBLOCK%s%d", runID, i), User: u.Name})
		if err != nil {
			return nil, err
		}
		if err := d.Connect(ctx); err != nil {
			return nil, fmt.Errorf("failopen: victim %s: %w", d.ID(), err)
		}
		a, err := l.UEM.FindAssociation(d.ID(), u.Name)
		if err != nil {
			return nil, fmt.Errorf("failopen: victim %s: %w", d.ID(), err)
		}
		if _, err := l.UEM.Act(a.ID, uem.Action{Action: uem.ActBlock, Note: "loadgen failopen"}); err != nil {
			return nil, err
		}
		victims = append(victims, d)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, d := range victims {
		for {
			_, err := d.Sync(ctx)
			if errors.Is(err, device.ErrBlocked) {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("failopen: the gateway did not block %s within 30s", d.ID())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return victims, nil
}

// RunFailOpen runs the spec against the lab's gateway and takes the UEM
// down for the middle third of the run, longer if by then the outage
// was not seen: every blocked device checked and a new device let in
// (at most until the run's end). Before the run it connects `blocked`
// extra devices and blocks them at the UEM; during the outage they keep
// trying (every 500ms) and each success is a wrong-allow. Every
// "blocked" answer to a fleet device is a wrong-block (the lab's
// gateway is fail-open: new devices are let in while the UEM is down).
func RunFailOpen(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, blocked int) (*Results, *FailOpenReport, error) {
	return runFailOpen(ctx, l, spec, opt, blocked, phases{})
}

// runFailOpen is RunFailOpen with the phases' least lengths (zero: thirds).
func runFailOpen(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, blocked int, ph phases) (*Results, *FailOpenReport, error) {
	rep := &FailOpenReport{BlockedDevices: blocked}
	t0 := time.Now()
	victims, err := blockVictims(ctx, l, blocked, opt.RunID)
	if err != nil {
		return nil, nil, err
	}
	rep.GatewayLearnedMs = time.Since(t0).Milliseconds()

	o := &outage{ph: ph.orThirds(time.Duration(spec.Duration)), rep: rep, l: l, victims: victims}
	onDevice := opt.OnDevice
	opt.OnDevice = func(m *Member, status string) {
		o.sawDevice(m, status)
		if onDevice != nil {
			onDevice(m, status)
		}
	}
	opt.Tick = chainTick(o.tick, opt.Tick)
	o.runT0 = time.Now()
	orch, cancelOrch := context.WithCancel(ctx)
	defer cancelOrch()
	var wg sync.WaitGroup
	wg.Go(func() { o.run(orch) })
	res, err := Run(ctx, spec, opt)
	cancelOrch()
	wg.Wait()
	if res != nil {
		for _, c := range res.Commands {
			if c.Status == StatusBlocked {
				rep.WrongBlock += c.Count
			}
		}
		res.Extra = map[string]any{"preset": "failopen", "failopen": rep}
		if rep.WrongAllow > 0 || rep.WrongBlock > 0 {
			res.Breaches = append(res.Breaches, fmt.Sprintf("failopen: wrong-allow %d, wrong-block %d (both must be 0)", rep.WrongAllow, rep.WrongBlock))
			sort.Strings(res.Breaches)
		}
	}
	return res, rep, err
}

// outage is the failopen preset's UEM outage: when it began and ended,
// and what was seen during it.
type outage struct {
	ph      phases
	rep     *FailOpenReport
	l       *lab.Lab
	victims []*device.Device
	runT0   time.Time

	mu       sync.Mutex
	from, to time.Time // the UEM went down, came back (zero: not yet)
}

// sawDevice counts a new device let in during the outage: its first
// contact began once the UEM was down (so no answer of the UEM could
// have let it in) and ended, in, before the UEM came back.
func (o *outage) sawDevice(m *Member, status string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m.New && status == StatusOK && !o.from.IsZero() && o.to.IsZero() && !m.contactAt.Before(o.from) {
		atomic.AddInt64(&o.rep.NewDuringOutage, 1)
	}
}

// tick ends the run once the part after the outage has lasted its length.
func (o *outage) tick(Point, *Recorder) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.to.IsZero() || time.Since(o.to) < o.ph.after
}

// run takes the UEM down once the part before has passed, checks the
// blocked devices every 500ms, and brings the UEM back once the outage
// has lasted its length and was seen (every blocked device answered a
// check, a new device got in), or at the run's end (ctx).
func (o *outage) run(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Until(o.runT0.Add(o.ph.before))):
	}
	_ = o.l.SetUEMDown(true)
	o.mu.Lock()
	o.from = time.Now()
	o.mu.Unlock()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	answered := make([]bool, len(o.victims))
	seen := func() bool {
		return !slices.Contains(answered, false) && atomic.LoadInt64(&o.rep.NewDuringOutage) > 0 && time.Since(o.from) >= o.ph.during
	}
loop:
	for !seen() {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			o.checkVictims(ctx, answered)
		}
	}
	o.mu.Lock()
	o.to = time.Now()
	o.rep.OutageFromS, o.rep.OutageToS = o.from.Sub(o.runT0).Seconds(), o.to.Sub(o.runT0).Seconds()
	o.mu.Unlock()
	_ = o.l.SetUEMDown(false)
}

// checkVictims has every blocked device ask as a fresh request would;
// each one served is a wrong-allow. It marks in answered the devices
// that got an answer (served or blocked), not a transport failure.
func (o *outage) checkVictims(ctx context.Context, answered []bool) {
	for i, d := range o.victims {
		d.Reset() // forget the policy key: ask as a fresh request would
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := d.FolderSync(cctx)
		cancel()
		atomic.AddInt64(&o.rep.BlockedChecks, 1)
		if err == nil {
			atomic.AddInt64(&o.rep.WrongAllow, 1)
		}
		answered[i] = answered[i] || err == nil || errors.Is(err, device.ErrBlocked)
	}
}
