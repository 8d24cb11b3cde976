package loadgen

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/lab"
)

func startLab(t *testing.T, users int) *lab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{Users: users, MessagesPerUser: 4, CheckInterval: 2 * time.Second, ResyncInterval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	return l
}

func labUsers(l *lab.Lab) []User {
	var us []User
	for _, u := range l.Users() {
		us = append(us, User{Name: u.Name, Password: u.Password, Email: u.Email})
	}
	return us
}

// untilMeasured ends a run (through Options.Tick) once done holds for
// what was recorded so far, so that a test waits for the traffic it
// checks, not for a duration guessed to suffice on a busy machine. The
// spec's duration stays the bound.
func untilMeasured(done func(*Results) bool) func(Point, *Recorder) bool {
	return func(_ Point, rec *Recorder) bool { return !done(rec.Results()) }
}

// count is the number of operations recorded for cmd, any status.
func count(r *Results, cmd string) int64 {
	var n int64
	for _, c := range r.Commands {
		if c.Command == cmd {
			n += c.Count
		}
	}
	return n
}

// TestFleetThroughTheLabGateway runs a small mixed fleet through the
// lab's gateway: every command answers, Pings hang, nothing fails. The
// run ends once each command of the profile was measured and 100
// operations were made, at most 60 s: under -race on a busy machine a
// device's first access (a probe of its credentials, the UEM's
// decision, Provision) alone has taken 7 s.
func TestFleetThroughTheLabGateway(t *testing.T) {
	l := startLab(t, 3)
	spec, err := ParseSpec([]byte(`
devices: 40
users: 3
duration: 60s
new_share: 0.5
mix:
  platforms: {iOS: 1, Android: 1}
  clients: {native: 2, secure_app: 1, unsecured_app: 1}
  versions: {"12.1": 1, "14.1": 2, "16.1": 1}
profiles:
  default: {ping_heartbeat: 2s, sync_rate: 1/s, sendmail_rate: 6/min, attachment_share: 0.5}
arrival: {shape: ramp, over: 1s}
thresholds:
  p99: {Sync: 1us}
`))
	if err != nil {
		t.Fatal(err)
	}
	commands := []string{"Provision", "FolderSync", "Sync", "Ping", "SendMail"}
	enough := untilMeasured(func(r *Results) bool {
		total, _ := r.Totals()
		for _, cmd := range commands {
			if count(r, cmd) == 0 {
				return false
			}
		}
		return total >= 100
	})
	res, err := Run(context.Background(), spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2, Tick: enough})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Summary())
	total, failed := res.Totals()
	if res.DevicesArrived != 40 || failed != 0 || total < 100 {
		t.Errorf("arrived %d, %d of %d operations failed", res.DevicesArrived, failed, total)
	}
	for _, cmd := range commands {
		if h, _ := res.Histogram(cmd, nil); h.TotalCount() == 0 {
			t.Errorf("no %s measured", cmd)
		}
	}
	if res.ExitCode() != ExitThresholds {
		t.Errorf("a 1µs Sync p99 threshold held: exit %d", res.ExitCode())
	}
}

// TestFailOpenPreset: the UEM goes down under load; blocked devices stay
// blocked and new devices get in. The outage starts after 2 s and lasts
// until it was seen (every blocked device checked, a new device let in),
// the run 1 s more: the 60 s duration is only the bound (a loaded
// machine took longer than a whole 6 s run for a device's first contact).
func TestFailOpenPreset(t *testing.T) {
	l := startLab(t, 3)
	spec, err := PresetSpec("failopen")
	if err != nil {
		t.Fatal(err)
	}
	spec.Devices, spec.Users, spec.Duration, spec.Arrival.Over = 60, 3, Duration(60*time.Second), Duration(5*time.Second)
	spec.Profiles["default"] = Profile{PingHeartbeat: Duration(2 * time.Second), SyncRate: 1}
	res, rep, err := runFailOpen(context.Background(), l, spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2, RunID: "t1"}, 3,
		phases{before: 2 * time.Second, during: time.Second, after: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\n%s", rep, res.Summary())
	if rep.WrongAllow != 0 || rep.WrongBlock != 0 || rep.BlockedChecks == 0 || rep.NewDuringOutage == 0 || rep.OutageToS <= rep.OutageFromS {
		t.Errorf("failopen: %+v", rep)
	}
}

// TestColdStartServesPersistedDevicesFromCache: devices connected before
// a gateway restart are all served again after it, from the cache: with
// the UEM down (the persistent list) no device is let in by fail-open,
// and with it up (init from the UEM) no first access reaches the UEM.
func TestColdStartServesPersistedDevicesFromCache(t *testing.T) {
	l := startLab(t, 3)
	for _, down := range []bool{true, false} {
		spec, err := PresetSpec("coldstart")
		if err != nil {
			t.Fatal(err)
		}
		spec.Devices, spec.Users, spec.Duration = 12, 3, Duration(30*time.Second)
		res, rep, err := RunColdStart(context.Background(), l, spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2, RunID: fmt.Sprintf("cs%v", down)},
			ColdStartConfig{UEMDown: down})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("uem down %v: %+v\n%s", down, rep, res.Summary())
		if rep.Devices != 12 || rep.Persisted < 12 || rep.Served != 12 || rep.ServedFromCache != 12 ||
			rep.FirstAccessReports != 0 || rep.FailOpenEntries != 0 {
			t.Errorf("uem down %v: %+v", down, rep)
		}
		if rep.Served99Ms < rep.RestartMs || rep.Served100Ms < rep.Served99Ms || rep.Served100Ms > 30_000 {
			t.Errorf("uem down %v: served 99%% at %dms, all at %dms, restart took %dms", down, rep.Served99Ms, rep.Served100Ms, rep.RestartMs)
		}
		if h, _ := res.Histogram("Served", nil); h.TotalCount() != 12 {
			t.Errorf("Served histogram holds %d devices", h.TotalCount())
		}
	}
}

// TestColdStartCountsFirstAccesses is the control: devices the restarted
// gateway does not have are first accesses, and the preset counts them:
// with the cache and list emptied before a restart with the UEM down
// every device is let in by fail-open; with the UEM up, devices the UEM
// does not list as registered are reported to it again (FLOW-10: init
// loads registered allowed devices).
func TestColdStartCountsFirstAccesses(t *testing.T) {
	l := startLab(t, 3)
	// Unregistered first: the fake UEM links a user's later associations
	// to the user's registered device.
	for i, tc := range []ColdStartConfig{{Unregistered: true}, {UEMDown: true, Purge: true}} {
		spec, err := PresetSpec("coldstart")
		if err != nil {
			t.Fatal(err)
		}
		spec.Devices, spec.Users, spec.Duration = 6, 3, Duration(30*time.Second)
		_, rep, err := RunColdStart(context.Background(), l, spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 1, RunID: fmt.Sprintf("ctl%d", i)}, tc)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v: %+v", tc, rep)
		if rep.Served != 6 || rep.ServedFromCache != 0 || rep.FailOpenEntries+int(rep.FirstAccessReports) != 6 {
			t.Errorf("%+v: %+v", tc, rep)
		}
	}
}

// TestResyncPreset: resyncs of fleet plus generated devices run back to
// back on live traffic and the windows around them are measured. Each
// part lasts 2–3 s and until it measured the fleet (and a resync
// completed): the 60 s duration is only the bound.
func TestResyncPreset(t *testing.T) {
	l := startLab(t, 3)
	spec, err := PresetSpec("resync")
	if err != nil {
		t.Fatal(err)
	}
	spec.Devices, spec.Users, spec.Duration, spec.Arrival.Over = 20, 3, Duration(60*time.Second), Duration(time.Second)
	spec.Profiles["default"] = Profile{PingHeartbeat: Duration(2 * time.Second), SyncRate: 2}
	res, rep, err := runResync(context.Background(), l, spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2, RunID: "rs"}, 300,
		phases{before: 3 * time.Second, during: 2 * time.Second, after: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\n%s", rep, res.Summary())
	if rep.Resyncs < 1 || rep.Failures != 0 || rep.Listed < 300 || rep.FirstMs <= 0 || rep.MaxMs < rep.MeanMs {
		t.Errorf("resyncs: %+v", rep)
	}
	if rep.Before.Ops == 0 || rep.During.Ops == 0 || rep.After.Ops == 0 || rep.During.P99ms <= 0 {
		t.Errorf("windows: before %+v during %+v after %+v", rep.Before, rep.During, rep.After)
	}
	if total, failed := res.Totals(); failed != 0 || total == 0 {
		t.Errorf("%d of %d operations failed", failed, total)
	}
}

// TestSoakPreset samples latency and the gateway's memory each second
// and reports their drift over the steady part. The run ends once the
// report holds what the test checks (60 s at most).
func TestSoakPreset(t *testing.T) {
	l := startLab(t, 3)
	spec, err := PresetSpec("soak")
	if err != nil {
		t.Fatal(err)
	}
	spec.Devices, spec.Users, spec.Duration, spec.Arrival.Over = 20, 3, Duration(60*time.Second), Duration(time.Second)
	spec.Profiles = map[string]Profile{"default": {PingHeartbeat: Duration(2 * time.Second), SyncRate: 2}}
	complete := func(rep SoakReport) bool {
		return len(rep.Samples) >= 5 && rep.SteadyFromS >= 0 && rep.P99First > 0 && rep.P99Last > 0 && rep.HeapFirstMB > 0
	}
	res, rep, err := runSoak(context.Background(), l, spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2, RunID: "sk"}, time.Second, complete)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\n%s", rep, res.Summary())
	if !complete(*rep) {
		t.Errorf("soak: %+v", rep)
	}
	for _, s := range rep.Samples {
		if s.HeapMB <= 0 || s.Goroutines <= 0 {
			t.Errorf("sample without the gateway's memory: %+v", s)
		}
	}
}

// TestTwoLocalShardsMergeToOneRun runs a fleet once whole and once as two
// shards (concurrently, as two processes would) against the same gateway:
// merged, the shards bring the same devices and the same operations per
// (command, status) as the single run. The fleet only makes first
// contact, so every count is fixed by the spec and the seed; each run
// ends once its devices' first contacts are all recorded (at most 60 s).
func TestTwoLocalShardsMergeToOneRun(t *testing.T) {
	l := startLab(t, 3)
	spec, err := ParseSpec([]byte(`
devices: 31
users: 3
duration: 60s
new_share: 0.5
profiles:
  default: {ping_heartbeat: 0s}
arrival: {shape: ramp, over: 1s}
`))
	if err != nil {
		t.Fatal(err)
	}
	opt := func(runID string, s Shard) Options {
		devices := int64(s.Devices(spec.Devices))
		firstContacts := untilMeasured(func(r *Results) bool { return count(r, "Sync") >= devices })
		return Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2, RunID: runID, Shard: s, Tick: firstContacts}
	}
	one, err := Run(context.Background(), spec, opt("one", Shard{0, 1}))
	if err != nil {
		t.Fatal(err)
	}
	shards := make([]*Results, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { shards[i], errs[i] = Run(context.Background(), spec, opt("two", Shard{i, 2})) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	merged, err := Merge(shards...)
	if err != nil {
		t.Fatal(err)
	}
	byStatus := func(r *Results) map[string]int64 {
		m := map[string]int64{}
		for _, c := range r.Commands {
			m[c.Command+" "+c.Status] = c.Count
		}
		return m
	}
	t.Logf("one run:\n%s\nmerged shards:\n%s", one.Summary(), merged.Summary())
	if shards[0].DevicesArrived != 16 || shards[1].DevicesArrived != 15 {
		t.Errorf("shards brought %d and %d devices, want 16 and 15", shards[0].DevicesArrived, shards[1].DevicesArrived)
	}
	if merged.DevicesArrived != one.DevicesArrived || one.DevicesArrived != 31 || merged.DevicesPlanned != one.DevicesPlanned {
		t.Errorf("devices: merged %d of %d planned, one run %d of %d", merged.DevicesArrived, merged.DevicesPlanned, one.DevicesArrived, one.DevicesPlanned)
	}
	if got, want := byStatus(merged), byStatus(one); !maps.Equal(got, want) || want["FolderSync ok"] != 31 {
		t.Errorf("operations: merged %v, one run %v", got, want)
	}
}

// TestCapacityReportsGatewayMemory: a capacity run against the lab reports
// the gateway's memory at the devices held, from its admin API. The run
// ends once a sample holds every device (60 s at most).
func TestCapacityReportsGatewayMemory(t *testing.T) {
	l := startLab(t, 3)
	spec, err := PresetSpec("capacity")
	if err != nil {
		t.Fatal(err)
	}
	spec.Devices, spec.Users, spec.Duration = 30, 3, Duration(60*time.Second)
	spec.Arrival = Arrival{Shape: "ramp", Over: Duration(time.Second)}
	// Not broken here: a first contact took 10 s at load 26 under -race.
	spec.Thresholds.P99 = map[string]Duration{"all": Duration(time.Minute)}
	everyDevice := func(m GatewayMemory, held int64) bool { return m.CacheEntries >= 30 && held == 30 }
	res, err := runCapacityLab(context.Background(), l, spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2, RunID: "cap"}, everyDevice)
	if err != nil {
		t.Fatal(err)
	}
	mem, ok := res.Extra["gateway_memory"].(CapacityMemory)
	t.Logf("%+v held %v", mem, res.Extra["devices_held"])
	if !ok || mem.After.CacheEntries < 30 || mem.After.HeapInuseMB <= 0 || mem.Before.HeapInuseMB <= 0 || res.Extra["devices_held"] != int64(30) {
		t.Errorf("memory %+v, held %v", mem, res.Extra["devices_held"])
	}
}
