package loadgen

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/lab"
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
// kept to the thresholds (outside the recorder's lock) and ends the run
// by returning false. The caller's opt.Tick sees every second too.
func runCapacity(ctx context.Context, spec *Spec, opt Options, good func(Point) bool) (*Results, error) {
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
	opt.Tick = chainTick(func(p Point, _ *Recorder) bool {
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
			keep := true
			if good != nil {
				mu.Unlock()
				keep = good(p)
				mu.Lock()
			}
			return keep
		}
		if bad == 0 {
			brokeAt, reason = p.Devices, why
		}
		bad++
		return bad < 3
	}, opt.Tick)
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
