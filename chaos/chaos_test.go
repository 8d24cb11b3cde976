package chaos

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestGenerateIsDeterministic(t *testing.T) {
	o := GenOptions{Restart: true, FailedStart: true, Kill: true}
	a, b := Generate(42, o), Generate(42, o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two schedules")
	}
	if reflect.DeepEqual(a.Steps, Generate(43, o).Steps) {
		t.Fatal("seeds 42 and 43 gave the same steps")
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(a.Steps) != 25 || a.Devices < 5 || a.Devices > 12 {
		t.Fatalf("defaults: %d steps, %d devices", len(a.Steps), a.Devices)
	}
}

func TestScheduleRoundTripsThroughYAML(t *testing.T) {
	s := Generate(7, GenOptions{Restart: true})
	s.Note = "round trip"
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := WriteSchedule(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSchedule(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("read back %+v, wrote %+v", got, s)
	}
}

func TestDDMinFindsTheFailingPair(t *testing.T) {
	var steps []Step
	for i := range 40 {
		steps = append(steps, Step{Op: OpWait, Arg: i})
	}
	// Fails when steps 7 and 31 are both there, in order.
	fails := func(c []Step) bool {
		seen7 := false
		for _, s := range c {
			seen7 = seen7 || s.Arg == 7
			if s.Arg == 31 && seen7 {
				return true
			}
		}
		return false
	}
	got := ddmin(steps, fails)
	if len(got) != 2 || got[0].Arg != 7 || got[1].Arg != 31 {
		t.Fatalf("ddmin: %v", got)
	}
}

// The staleness bound: a change must be known once the gateway had a
// whole healthy window after it, not before, and outages postpone it.
func TestHealthLearnBy(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	var h health
	h.set(at(0), true)
	h.set(at(10), false) // outage from 10 to 20
	h.set(at(20), true)
	h.set(at(22), false) // a short healthy stretch, too short
	h.set(at(23), true)
	w := 5 * time.Second
	for _, tc := range []struct {
		change, want float64
	}{
		{1, 6},   // healthy all along
		{6, 28},  // the outage comes before 11: the next long stretch begins at 23
		{12, 28}, // during the outage
		{30, 35},
	} {
		got, ok := h.learnBy(at(tc.change), w)
		if !ok || !got.Equal(at(tc.want)) {
			t.Errorf("change at %v: learn by %v (%v), want %v", tc.change, got.Sub(t0).Seconds(), ok, tc.want)
		}
	}
}

// The oracle's verdicts on hand-made observations.
func TestOracleVerdicts(t *testing.T) {
	t0 := time.Now().Add(-time.Minute)
	newO := func() *oracle { return newOracle(1, 1, 5*time.Second, t0) }
	ob := func(sec int) observation {
		return observation{step: 3, op: OpSync, device: "D0", start: t0.Add(time.Duration(sec) * time.Second), after: stBlocked}
	}
	for _, tc := range []struct {
		name  string
		setup func(o *oracle)
		obs   func() observation
		want  string
	}{
		{"blocked and known, relayed", func(o *oracle) { o.record(0, stBlocked, t0.Add(time.Second), t0.Add(2*time.Second)) },
			func() observation { x := ob(3); x.relayed = true; return x }, WrongAllow},
		{"blocked, not known yet, relayed", func(o *oracle) { o.record(0, stBlocked, t0.Add(time.Second), time.Time{}) },
			func() observation { x := ob(3); x.relayed = true; return x }, ""},
		{"blocked, resync bound passed, relayed", func(o *oracle) { o.record(0, stBlocked, t0.Add(time.Second), time.Time{}) },
			func() observation { x := ob(7); x.relayed = true; return x }, WrongAllow},
		{"new device, UEM refusing, relayed", func(*oracle) {},
			func() observation { x := ob(1); x.relayed, x.refusing, x.after = true, true, stAbsent; return x }, WrongAllow},
		{"new device, UEM unreachable, relayed", func(*oracle) {},
			func() observation { x := ob(1); x.relayed, x.unreachable, x.after = true, true, stAbsent; return x }, ""},
		{"allowed and known, refused", func(o *oracle) { o.record(0, stAllowed, t0, t0) },
			func() observation { x := ob(1); x.blocked = true; return x }, WrongBlock},
		{"blocked, known, restart, relayed", func(o *oracle) {
			o.record(0, stBlocked, t0, t0)
			o.restarts = append(o.restarts, t0.Add(time.Second))
		}, func() observation { x := ob(2); x.relayed = true; return x }, LostState},
		{"allowed, known, started from the UEM, UEM refusing, refused", func(o *oracle) {
			o.record(0, stAllowed, t0, t0)
			o.restarts = append(o.restarts, t0.Add(time.Second))
			o.upStarts = append(o.upStarts, t0.Add(time.Second))
		}, func() observation { x := ob(2); x.blocked, x.refusing = true, true; return x }, ""},
		{"allowed, known, started with the UEM down, UEM refusing, refused", func(o *oracle) {
			o.record(0, stAllowed, t0, t0)
			o.restarts = append(o.restarts, t0.Add(time.Second))
		}, func() observation { x := ob(2); x.blocked, x.refusing = true, true; return x }, WrongBlock},
		{"policy known, started from the UEM, fail-open with the server's policy", func(o *oracle) {
			o.restarts = append(o.restarts, t0.Add(time.Second))
			o.upStarts = append(o.upStarts, t0.Add(time.Second))
		}, func() observation { x := ob(2); x.policy, x.unreachable = "len4", true; return x }, ""},
		{"policy known, started with the UEM down, server's policy", func(o *oracle) {
			o.restarts = append(o.restarts, t0.Add(time.Second))
		}, func() observation { x := ob(2); x.policy, x.unreachable = "len4", true; return x }, StalePolicy},
		{"allowed, known, restart, UEM answering, refused", func(o *oracle) {
			o.record(0, stAllowed, t0, t0)
			o.restarts = append(o.restarts, t0.Add(time.Second))
		}, func() observation { x := ob(2); x.blocked = true; return x }, WrongBlock},
		{"assigned policy known, server policy provisioned", func(*oracle) {},
			func() observation { x := ob(2); x.policy = "len4"; return x }, StalePolicy},
		{"assigned policy known, provisioned", func(*oracle) {},
			func() observation { x := ob(2); x.policy = "len7"; return x }, ""},
		{"policy changed, not known yet, old one provisioned", func(o *oracle) { o.recordPolicy(0, "len9", t0.Add(time.Second)) },
			func() observation { x := ob(2); x.policy = "len7"; return x }, ""},
		{"wipe acknowledged, wiped again", func(o *oracle) {
			o.record(0, stAllowed, t0, t0)
			o.record(0, stWiped, t0, t0)
			o.devices[0].ackEpoch, o.devices[0].ackAt = 1, t0
		}, func() observation { x := ob(2); x.wiped = true; return x }, DoubleWipe},
	} {
		o := newO()
		o.recordPolicy(0, "len7", t0)
		o.knownAt(0, t0)
		tc.setup(o)
		o.checkDevice(0, tc.obs())
		got := ""
		if len(o.findings) > 0 {
			got = o.findings[0].Kind
			if o.findings[0].Seed != 1 || o.findings[0].Step != 3 {
				t.Errorf("%s: finding names seed %d step %d", tc.name, o.findings[0].Seed, o.findings[0].Step)
			}
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q (%v)", tc.name, got, tc.want, o.findings)
		}
	}
}

// TestRegressions replays the shrunk schedules of chaos/testdata against
// the bundled gateway: each one failed with a defect put back by hand.
func TestRegressions(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no regression schedules: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := LoadSchedule(f)
			if err != nil {
				t.Fatal(err)
			}
			r := RunSchedule(context.Background(), regressionWorld(t, s), s)
			if r.Error != "" {
				t.Fatalf("world: %s", r.Error)
			}
			for _, fd := range r.Findings {
				t.Errorf("%v", fd)
			}
		})
	}
}

func TestLoadScheduleRejectsUnknownFieldsAndOps(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field": "seed: 1\nusers: 2\ndevices: 5\nsteps:\n  - op: sync\n    devise: 1\n",
		"unknown op":    "seed: 1\nusers: 2\ndevices: 5\nsteps:\n  - op: explode\n",
		"device range":  "seed: 1\nusers: 2\ndevices: 5\nsteps:\n  - op: sync\n    device: 5\n",
	} {
		path := filepath.Join(t.TempDir(), "s.yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSchedule(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
