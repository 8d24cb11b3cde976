package loadgen

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// TestPacingHoldsAConstantRate paces a constant open-model rate at an
// in-process HTTP target: the schedule fires exactly rate×length events
// (event k at k/rate), and every one of them reaches the server or is
// counted as dropped. How close to the schedule they arrive depends on the
// machine, so that is measured by `gatehouse loadgen bench`, not asserted.
func TestPacingHoldsAConstantRate(t *testing.T) {
	const (
		rate   = 1000.0
		length = 4 * time.Second
	)
	var (
		mu   sync.Mutex
		seen []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer hc.CloseIdleConnections()

	r := &runner{spec: &Spec{MaxInFlight: 1000, LateAfter: Duration(10 * time.Millisecond)}}
	start := time.Now()
	r.rec = NewRecorder(start)
	fired := pace(context.Background(), start, length, func(time.Duration) float64 { return rate }, func(intended time.Time) {
		r.dispatch(context.Background(), intended, func() {
			resp, err := hc.Post(srv.URL, "text/plain", nil)
			if err == nil {
				resp.Body.Close()
			}
			r.rec.Record("Post", err, time.Since(intended))
		})
	})
	r.wg.Wait()
	if want := int64(rate * length.Seconds()); fired < want-1 || fired > want+1 {
		t.Errorf("fired %d events, want %d", fired, want)
	}
	// Every paced event reached the server or was counted as dropped:
	// nothing is lost silently. Wall-clock accuracy of the rate is a
	// benchmark's business (`gatehouse loadgen bench`), not a unit test's.
	mu.Lock()
	defer mu.Unlock()
	if got := int64(len(seen)) + r.rec.dropped.Load(); got != fired {
		t.Errorf("server saw %d requests and %d were dropped, want the %d fired", len(seen), r.rec.dropped.Load(), fired)
	}
	t.Logf("server saw %d of %d, late %d, dropped %d", len(seen), fired, r.rec.late.Load(), r.rec.dropped.Load())
}

// TestPacingMeasuresFromTheIntendedTime: a target that stalls delays
// the operations behind it; their latency counts from when they should
// have started, not when they did.
func TestPacingMeasuresFromTheIntendedTime(t *testing.T) {
	r := &runner{spec: &Spec{MaxInFlight: 100, LateAfter: Duration(5 * time.Millisecond)}}
	start := time.Now()
	r.rec = NewRecorder(start)
	var slow sync.Once
	pace(context.Background(), start, 200*time.Millisecond, func(time.Duration) float64 { return 100 }, func(intended time.Time) {
		slow.Do(func() { time.Sleep(50 * time.Millisecond) }) // the pacer itself stalls once
		r.dispatch(context.Background(), intended, func() { r.rec.Record("Op", nil, time.Since(intended)) })
	})
	r.wg.Wait()
	res := r.rec.Results()
	h, _ := res.Histogram("Op", nil)
	if h.Max() < 40_000 || r.rec.late.Load() < 3 {
		t.Errorf("max latency %dµs, late %d: the stall is hidden", h.Max(), r.rec.late.Load())
	}
}

func TestShardsAreDisjointAndComplete(t *testing.T) {
	const total = 1001
	seen := map[int]int{}
	sum := 0
	for i := range 3 {
		s := Shard{i, 3}
		for k := range s.Devices(total) {
			seen[s.I+k*s.N]++
		}
		sum += s.Devices(total)
	}
	if sum != total || len(seen) != total {
		t.Fatalf("shards hold %d devices, %d distinct, want %d", sum, len(seen), total)
	}
	if _, err := ParseShard("3/3"); err == nil {
		t.Error("3/3 accepted")
	}
}

// TestMergeTwoShardsEqualsOneRun: the same latencies recorded by one
// recorder, or split over two whose results are merged (through JSON
// files), give identical histograms, counts and percentiles.
func TestMergeTwoShardsEqualsOneRun(t *testing.T) {
	start := time.Now()
	one, a, b := NewRecorder(start), NewRecorder(start), NewRecorder(start)
	rng := rand.New(rand.NewPCG(1, 2))
	cmds := []string{"Sync", "Ping", "SendMail"}
	errs := []error{nil, nil, nil, device.ErrBlocked, errors.New("reset")}
	for i := range 20000 {
		cmd, err := cmds[rng.IntN(3)], errs[rng.IntN(len(errs))]
		d := time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond))
		one.Record(cmd, err, d)
		if i%2 == 0 {
			a.Record(cmd, err, d)
		} else {
			b.Record(cmd, err, d)
		}
		if i%5000 == 4999 {
			now := start.Add(time.Duration(i/5000+1) * time.Second)
			one.Tick(now)
			a.Tick(now)
			b.Tick(now)
		}
	}
	dir := t.TempDir()
	ra, rb := a.Results(), b.Results()
	if err := ra.WriteFile(dir + "/a.json"); err != nil {
		t.Fatal(err)
	}
	if err := rb.WriteFile(dir + "/b.json"); err != nil {
		t.Fatal(err)
	}
	ra, _ = ReadResults(dir + "/a.json")
	rb, _ = ReadResults(dir + "/b.json")
	merged, err := Merge(ra, rb)
	if err != nil {
		t.Fatal(err)
	}
	want := one.Results()
	if len(merged.Commands) != len(want.Commands) {
		t.Fatalf("merged %d histograms, want %d", len(merged.Commands), len(want.Commands))
	}
	for i, w := range want.Commands {
		g := merged.Commands[i]
		hg, _ := decodeHist(g.Hist)
		hw, _ := decodeHist(w.Hist)
		if g.Command != w.Command || g.Status != w.Status || g.Count != w.Count || g.P99ms != w.P99ms || g.MaxMs != w.MaxMs ||
			!slices.Equal(hg.Export().Counts, hw.Export().Counts) {
			t.Errorf("merged %+v\nwant   %+v", g, w)
		}
	}
	for i, w := range want.Series {
		g := merged.Series[i]
		if g.T != w.T || g.Ops != w.Ops || g.Errors != w.Errors || g.P50ms != w.P50ms || g.P99ms != w.P99ms {
			t.Errorf("second %d: merged %+v, want %+v", w.T, g, w)
		}
	}
}

func TestThresholdsSetTheExitCode(t *testing.T) {
	rec := NewRecorder(time.Now())
	for i := range 1000 {
		rec.Record("Sync", nil, time.Duration(i)*time.Millisecond) // p99 ≈ 990ms
	}
	for range 5 {
		rec.Record("Sync", errors.New("reset"), time.Millisecond)
	}
	er := 0.01
	for _, tc := range []struct {
		th   Thresholds
		code int
	}{
		{Thresholds{}, 0},
		{Thresholds{P99: map[string]Duration{"Sync": Duration(2 * time.Second)}, ErrorRate: &er}, 0},
		{Thresholds{P99: map[string]Duration{"Sync": Duration(500 * time.Millisecond)}}, ExitThresholds},
		{Thresholds{P99: map[string]Duration{"all": Duration(500 * time.Millisecond)}}, ExitThresholds},
		{Thresholds{P99: map[string]Duration{"Ping": Duration(time.Millisecond)}}, 0}, // no Ping measured
		{Thresholds{ErrorRate: new(0.001)}, ExitThresholds},
	} {
		res := rec.Results()
		br, err := res.Check(tc.th)
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode() != tc.code {
			t.Errorf("%+v: exit %d (%v), want %d", tc.th, res.ExitCode(), br, tc.code)
		}
	}
}

func TestIntegrateArrivals(t *testing.T) {
	a := Arrival{Shape: "linear", From: 0, To: 100, Over: Duration(10 * time.Second)}
	if n := integrate(a.ArrivalRate(1000, 1), 10*time.Second); math.Abs(n-500) > 1 {
		t.Errorf("linear 0→100/s over 10s schedules %.1f devices, want 500", n)
	}
	a = Arrival{Shape: "steps", Steps: []Step{{At: 0, Rate: 10}, {At: Duration(2 * time.Second), Rate: 40}}}
	if n := integrate(a.ArrivalRate(1000, 2), 4*time.Second); math.Abs(n-50) > 0.5 {
		t.Errorf("steps over 2 shards schedule %.1f devices, want 50", n)
	}
}

func TestRampBringsEveryDevice(t *testing.T) {
	a := Arrival{Shape: "ramp", Over: Duration(time.Second)}
	for _, n := range []int{10, 100, 999} {
		got := pace(context.Background(), time.Now(), 1100*time.Millisecond, a.ArrivalRate(n, 1), func(time.Time) {})
		if got < int64(n) {
			t.Errorf("ramp of %d devices brought %d", n, got)
		}
	}
}

// TestBenchReportsItsPacing: bench sends exactly rate×duration requests
// and reports the rate it achieved from the actual send times (how close
// it comes is the machine's business, printed by `loadgen bench`).
func TestBenchReportsItsPacing(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	// Eight connections, not one TLS handshake per request: 400 handshakes
	// in 2 s outlasted the client's 10 s handshake timeout under -race on
	// a loaded machine (22 of 400 "transport").
	res, err := Bench(context.Background(), BenchConfig{URL: srv.URL, Rate: 200, Duration: 2 * time.Second, MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := res.Extra["pacing"].(BenchPacing)
	if !ok {
		t.Fatalf("no pacing in %v", res.Extra)
	}
	t.Logf("%+v", p)
	if p.Sent != 400 || hits.Load() != 400 || p.TargetRate != 200 || p.AchievedRate <= 0 {
		t.Errorf("pacing %+v, server saw %d\n%s", p, hits.Load(), res.Summary())
	}
	if h, _ := res.Histogram("POST.service", func(s string) bool { return s == StatusOK }); h.TotalCount() != 400 {
		t.Errorf("%d POSTs measured ok", h.TotalCount())
	}
}
