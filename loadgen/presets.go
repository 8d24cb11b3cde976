package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// presetSpecs are the presets' built-in specs, by name.
var presetSpecs = map[string]string{
	// capacity: distinct devices arrive ever faster; the run stops when
	// the p99 of the non-Ping commands or the error rate of a second
	// breaks the thresholds three seconds in a row.
	"capacity": `name: capacity
devices: 100000
users: 8
duration: 60s
new_share: 1
mix:
  platforms: {iOS: 60, Android: 35, Windows: 5}
  clients: {native: 80, secure_app: 15, unsecured_app: 5}
  versions: {"14.1": 60, "16.1": 30, "12.1": 10}
profiles:
  default: {ping_heartbeat: 30s, sync_rate: 1/min, sendmail_rate: 1/h, attachment_share: 0.05}
arrival: {shape: linear, from: 50, to: 3000, over: 60s}
thresholds:
  p99: {all: 1s}
  error_rate: 0.01
`,
	// failopen: the UEM goes down under load; devices blocked before the
	// outage must stay blocked (wrong-allow) and new devices must be let
	// in by fail-open (wrong-block), both counted and held to 0.
	"failopen": `name: failopen
devices: 2000
users: 8
duration: 30s
new_share: 0.5
profiles:
  default: {ping_heartbeat: 10s, sync_rate: 6/min}
arrival: {shape: ramp, over: 25s}
thresholds:
  p99: {all: 2s}
`,
	// coldstart: connect the devices, restart the gateway (UEM up or
	// down), and time until 99 % of them are served from its cache.
	// duration is how long after the restart devices keep trying.
	"coldstart": `name: coldstart
devices: 2000
users: 8
duration: 60s
new_share: 1
max_in_flight: 1000
mix:
  platforms: {iOS: 60, Android: 35, Windows: 5}
  versions: {"14.1": 60, "16.1": 30, "12.1": 10}
thresholds:
  p99: {Sync: 2s}
`,
	// resync: a steady fleet; in the middle third the gateway reloads
	// every device from the UEM back to back; latency and throughput
	// before, during and after are compared.
	"resync": `name: resync
devices: 1000
users: 8
duration: 60s
new_share: 0.5
profiles:
  default: {ping_heartbeat: 30s, sync_rate: 6/min, sendmail_rate: 2/h}
arrival: {shape: ramp, over: 5s}
thresholds:
  p99: {all: 2s}
  error_rate: 0.01
`,
	// soak: a long steady mixed load (60s by default; --duration 8h for
	// a real soak); latency and the gateway's memory are sampled and
	// their drift reported.
	"soak": `name: soak
devices: 500
users: 8
duration: 60s
new_share: 0.2
mix:
  platforms: {iOS: 60, Android: 35, Windows: 5}
  clients: {native: 80, secure_app: 15, unsecured_app: 5}
  versions: {"14.1": 60, "16.1": 30, "12.1": 10}
profiles:
  default: {ping_heartbeat: 30s, sync_rate: 2/min, sendmail_rate: 12/h, attachment_share: 0.1}
  unsecured_app: {sync_rate: 2/min}
arrival: {shape: ramp, over: 10s}
thresholds:
  p99: {all: 2s}
  error_rate: 0.01
`,
}

// Preset is a built-in run (gatehouse loadgen run --preset NAME): a spec
// to start from and the logic around the fleet. A --spec replaces the
// preset's spec but keeps its logic.
type Preset struct {
	Name string
	Spec string // the built-in spec (YAML)
	// NeedsLab: the run drives the lab's UEM and gateway, so it runs only
	// against an in-process lab.
	NeedsLab bool
	run      func(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, p PresetParams) (*Results, error)
}

// PresetParams are the knobs of the preset runs that are not in a spec.
type PresetParams struct {
	Blocked      int             // failopen: devices blocked at the UEM before the outage
	ColdStart    ColdStartConfig // coldstart
	Generate     int             // resync: synthetic associations added at the UEM
	SoakInterval time.Duration   // soak: how often latency and memory are sampled
}

// presets is the registry, by name.
var presets = map[string]Preset{
	"capacity": {run: func(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, _ PresetParams) (*Results, error) {
		if l != nil { // the gateway's memory per device too
			return RunCapacityLab(ctx, l, spec, opt)
		}
		return RunCapacity(ctx, spec, opt)
	}},
	"failopen": {NeedsLab: true, run: func(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, p PresetParams) (*Results, error) {
		res, _, err := RunFailOpen(ctx, l, spec, opt, p.Blocked)
		return res, err
	}},
	"coldstart": {NeedsLab: true, run: func(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, p PresetParams) (*Results, error) {
		res, _, err := RunColdStart(ctx, l, spec, opt, p.ColdStart)
		return res, err
	}},
	"resync": {NeedsLab: true, run: func(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, p PresetParams) (*Results, error) {
		res, _, err := RunResync(ctx, l, spec, opt, p.Generate)
		return res, err
	}},
	"soak": {run: func(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, p PresetParams) (*Results, error) {
		res, _, err := RunSoak(ctx, l, spec, opt, p.SoakInterval)
		return res, err
	}},
}

// LookupPreset returns the preset of that name, or an error listing them.
func LookupPreset(name string) (Preset, error) {
	p, ok := presets[name]
	if !ok {
		return Preset{}, fmt.Errorf("loadgen: unknown preset %q (%s)", name, strings.Join(PresetNames(), ", "))
	}
	p.Name, p.Spec = name, presetSpecs[name]
	return p, nil
}

// Run runs the preset with spec (its own or a --spec) and opt; l is the
// in-process lab, nil against a --target.
func (p Preset) Run(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, params PresetParams) (*Results, error) {
	if p.NeedsLab && l == nil {
		return nil, fmt.Errorf("loadgen: the %s preset needs --lab (it drives the lab's UEM and gateway)", p.Name)
	}
	return p.run(ctx, l, spec, opt, params)
}

// PresetNames lists the presets, sorted.
func PresetNames() []string { return sortedKeys(presets) }

// PresetSpec returns a preset's built-in spec, parsed.
func PresetSpec(name string) (*Spec, error) {
	p, err := LookupPreset(name)
	if err != nil {
		return nil, err
	}
	return ParseSpec([]byte(p.Spec))
}

// CapacityPoint is one second of the capacity curve.
type CapacityPoint struct {
	Devices int64   `json:"devices"`
	Pings   int64   `json:"pings"`
	Ops     int64   `json:"ops"`
	P99ms   float64 `json:"p99_ms"`
	Errors  int64   `json:"errors"`
}

// RunCapacity ramps distinct devices (the spec's arrival) until a
// second breaks the thresholds (p99 "all" or the first p99 given, and
// error_rate) three seconds in a row, and reports the devices held
// before the first bad second and the latency curve.
func RunCapacity(ctx context.Context, spec *Spec, opt Options) (*Results, error) {
	return runCapacity(ctx, spec, opt, nil)
}

// runCapacity is RunCapacity; good, if not nil, sees each second that
// kept to the thresholds (outside the recorder's lock).
func runCapacity(ctx context.Context, spec *Spec, opt Options, good func(Point)) (*Results, error) {
	limit := time.Duration(spec.Thresholds.P99["all"])
	if limit == 0 {
		for _, k := range sortedKeys(spec.Thresholds.P99) {
			limit = time.Duration(spec.Thresholds.P99[k])
			break
		}
	}
	var (
		mu      sync.Mutex
		curve   []CapacityPoint
		bad     int
		held    int64
		brokeAt int64
		reason  string
	)
	opt.Tick = func(p Point, _ *Recorder) bool {
		mu.Lock()
		defer mu.Unlock()
		curve = append(curve, CapacityPoint{p.Devices, p.Pings, p.Ops, p.P99ms, p.Errors})
		why := ""
		if limit > 0 && p.Ops > 0 && time.Duration(p.P99ms*float64(time.Millisecond)) > limit {
			why = fmt.Sprintf("p99 %.1fms above %v", p.P99ms, limit)
		}
		if er := spec.Thresholds.ErrorRate; er != nil && p.Ops > 0 && float64(p.Errors)/float64(p.Ops) > *er {
			why = fmt.Sprintf("error rate %d/%d above %v", p.Errors, p.Ops, *er)
		}
		if why == "" {
			bad, held = 0, p.Devices
			if good != nil {
				mu.Unlock()
				good(p)
				mu.Lock()
			}
			return true
		}
		if bad == 0 {
			brokeAt, reason = p.Devices, why
		}
		bad++
		return bad < 3
	}
	res, err := Run(ctx, spec, opt)
	if res != nil {
		mu.Lock()
		res.Extra = map[string]any{"preset": "capacity", "devices_held": held, "broke_at_devices": brokeAt, "broke_because": reason, "curve": curve}
		if reason == "" {
			res.Extra["broke_because"] = "not broken within the duration (raise devices, arrival or duration)"
		}
		mu.Unlock()
	}
	return res, err
}

// FailOpenReport is what the failopen preset found.
type FailOpenReport struct {
	BlockedDevices int `json:"blocked_devices"`
	// WrongAllow: a request of a device blocked before the outage was
	// served during it.
	WrongAllow int64 `json:"wrong_allow"`
	// WrongBlock: a fleet device (none is blocked at the UEM) was
	// blocked, new devices arriving during the outage included.
	WrongBlock       int64   `json:"wrong_block"`
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
// down for the middle third of the run. Before the run it connects
// `blocked` extra devices and blocks them at the UEM; during the outage
// they keep trying (every 500ms) and each success is a wrong-allow.
// Every "blocked" answer to a fleet device is a wrong-block (the lab's
// gateway is fail-open: new devices are let in while the UEM is down).
func RunFailOpen(ctx context.Context, l *lab.Lab, spec *Spec, opt Options, blocked int) (*Results, *FailOpenReport, error) {
	rep := &FailOpenReport{BlockedDevices: blocked}
	t0 := time.Now()
	victims, err := blockVictims(ctx, l, blocked, opt.RunID)
	if err != nil {
		return nil, nil, err
	}
	rep.GatewayLearnedMs = time.Since(t0).Milliseconds()

	dur := time.Duration(spec.Duration)
	var outage atomic.Bool
	opt.OnDevice = func(m *Member, status string) {
		if outage.Load() && m.New {
			atomic.AddInt64(&rep.NewDuringOutage, 1)
		}
	}
	runT0 := time.Now()
	orch, cancelOrch := context.WithCancel(ctx)
	defer cancelOrch()
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-orch.Done():
			return
		case <-time.After(dur / 3):
		}
		_ = l.SetUEMDown(true)
		outage.Store(true)
		from := time.Now()
		end := time.After(dur / 3)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
	loop:
		for {
			select {
			case <-orch.Done():
				break loop
			case <-end:
				break loop
			case <-tick.C:
				for _, d := range victims {
					d.Reset() // forget the policy key: ask as a fresh request would
					cctx, cancel := context.WithTimeout(orch, 10*time.Second)
					err := d.FolderSync(cctx)
					cancel()
					atomic.AddInt64(&rep.BlockedChecks, 1)
					if err == nil {
						atomic.AddInt64(&rep.WrongAllow, 1)
					}
				}
			}
		}
		outage.Store(false)
		_ = l.SetUEMDown(false)
		rep.OutageFromS = from.Sub(runT0).Seconds()
		rep.OutageToS = time.Since(runT0).Seconds()
	})
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
