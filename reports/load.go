package reports

import (
	"fmt"
	"math"
	"path/filepath"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// LoadRun is one loadgen run's figures, ready to print and chart.
type LoadRun struct {
	Source         string
	Name           string
	Started        time.Time
	DurationS      float64
	DevicesPlanned int64
	DevicesArrived int64
	Ops            int64   // non-Ping operations
	Failed         int64   // failed operations, Ping included
	Total          int64   // all operations, Ping included
	Throughput     float64 // non-Ping operations per second
	ErrorRate      float64 // Failed / Total
	Late           int64
	Dropped        int64
	Busy           int64
	Breaches       []string
	// All is the non-Ping latency over every command and status.
	All      Latency
	Commands []CommandRow
	Curves   []Curve
	Series   []SeriesPoint
	// Gateway is the gateway's cache size and memory over the run,
	// from a global-stats.csv whose rows fall in it (nil otherwise).
	Gateway *GatewaySeries
	// Wire compares the fleet's own socket counts with the gateway's
	// (nil: the results carry none).
	Wire *Wire
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	Count                         int64
	P50, P90, P99, P999, Max, Avg float64
}

// CommandRow is one (command, status) line of a run.
type CommandRow struct {
	Command, Status string
	Latency
}

// Curve is an HDR percentile distribution: latency at percentiles
// spaced evenly on the 1/(1-q) log axis (as HdrHistogram plots them).
type Curve struct {
	Label  string       `json:"label"`
	Points []CurvePoint `json:"points"`
}

// CurvePoint is one percentile of a curve.
type CurvePoint struct {
	Percentile float64 `json:"p"`
	Ms         float64 `json:"ms"`
}

// SeriesPoint is one second of a run.
type SeriesPoint struct {
	T       int     `json:"t"`
	Ops     int64   `json:"ops"`
	Errors  int64   `json:"errors"`
	P50ms   float64 `json:"p50"`
	P99ms   float64 `json:"p99"`
	Pings   int64   `json:"pings"`
	Devices int64   `json:"devices"`
}

// GatewaySeries is the gateway's own view of the run: seconds since
// the run started, with the peak cache size and heap so far.
type GatewaySeries struct {
	Source    string    `json:"source"`
	T         []int     `json:"t"`
	CacheSize []float64 `json:"cache"`
	HeapMB    []float64 `json:"heap"`
}

func latencyOf(h *hdr.Histogram) Latency {
	return Latency{Count: h.TotalCount(), P50: msOf(h.ValueAtQuantile(50)), P90: msOf(h.ValueAtQuantile(90)),
		P99: msOf(h.ValueAtQuantile(99)), P999: msOf(h.ValueAtQuantile(99.9)), Max: msOf(h.Max()), Avg: round3(h.Mean() / 1000)}
}

func msOf(us int64) float64 { return float64(us) / 1000 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func buildLoad(in LoadInput, globals []*GlobalStats, devices ...*DeviceStats) (LoadRun, error) {
	r := in.Results
	run := LoadRun{Source: filepath.Base(in.Path), Name: r.Name, Started: r.Started.UTC(), DurationS: r.DurationS,
		DevicesPlanned: r.DevicesPlanned, DevicesArrived: r.DevicesArrived, Late: r.Late, Dropped: r.Dropped, Busy: r.Busy,
		Breaches: r.Breaches}
	if run.Name == "" {
		run.Name = run.Source
	}
	run.Total, run.Failed = r.Totals()
	if run.Total > 0 {
		run.ErrorRate = float64(run.Failed) / float64(run.Total)
	}
	perCmd := map[string]*hdr.Histogram{}
	var order []string
	for _, c := range r.Commands {
		h, err := r.Histogram(c.Command, func(s string) bool { return s == c.Status })
		if err != nil {
			return run, fmt.Errorf("reports: %s: %s %s: %w", in.Path, c.Command, c.Status, err)
		}
		run.Commands = append(run.Commands, CommandRow{Command: c.Command, Status: c.Status, Latency: latencyOf(h)})
		if c.Command != "Ping" {
			run.Ops += c.Count
		}
		if perCmd[c.Command] == nil {
			perCmd[c.Command] = hdr.New(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
			order = append(order, c.Command)
		}
		perCmd[c.Command].Merge(h)
	}
	if run.DurationS > 0 {
		run.Throughput = float64(run.Ops) / run.DurationS
	}
	all, err := r.Histogram("all", nil)
	if err != nil {
		return run, fmt.Errorf("reports: %s: %w", in.Path, err)
	}
	run.All = latencyOf(all)
	if all.TotalCount() > 0 {
		run.Curves = append(run.Curves, Curve{Label: "all (non-Ping)", Points: curveOf(all)})
	}
	for _, c := range order {
		run.Curves = append(run.Curves, Curve{Label: c, Points: curveOf(perCmd[c])})
	}
	for _, p := range r.Series {
		run.Series = append(run.Series, SeriesPoint{T: p.T, Ops: p.Ops, Errors: p.Errors, P50ms: p.P50ms, P99ms: p.P99ms,
			Pings: p.Pings, Devices: p.Devices})
	}
	run.Gateway = gatewayDuring(run, globals)
	run.Wire = wireOf(run, r.Wire, globals, devices)
	return run, nil
}

// curveOf samples percentiles 0, 90, 99, 99.9, ... in ten steps per
// decade of 1/(1-q), up to where the histogram has values to tell
// (the maximum is in the tables).
func curveOf(h *hdr.Histogram) []CurvePoint {
	var out []CurvePoint
	n := float64(h.TotalCount())
	for i := 0; i <= 60; i++ {
		inv := math.Pow(10, float64(i)/10) // 1/(1-q)
		if i > 0 && inv > n {
			break
		}
		q := 100 * (1 - 1/inv)
		out = append(out, CurvePoint{Percentile: round3(q), Ms: msOf(h.ValueAtQuantile(q))})
	}
	return out
}

// gatewayDuring takes the gateway statistics rows that fall within the
// run (and one interval after it) from the first file that has any.
func gatewayDuring(run LoadRun, globals []*GlobalStats) *GatewaySeries {
	if run.Started.IsZero() {
		return nil
	}
	end := run.Started.Add(time.Duration(run.DurationS*float64(time.Second)) + 2*time.Second)
	for _, g := range globals {
		gs := &GatewaySeries{Source: filepath.Base(g.Path)}
		for _, row := range g.Rows {
			if row.Time.Before(run.Started.Truncate(time.Second)) || row.Time.After(end) {
				continue
			}
			c, okc := row.Values[ColCacheSize]
			m, okm := row.Values[ColHeapMB]
			if !okc && !okm {
				continue
			}
			gs.T = append(gs.T, int(row.Time.Sub(run.Started).Round(time.Second)/time.Second))
			gs.CacheSize = append(gs.CacheSize, c)
			gs.HeapMB = append(gs.HeapMB, round3(m))
		}
		if len(gs.T) > 0 {
			return gs
		}
	}
	return nil
}
