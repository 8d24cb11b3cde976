package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// ResultsFormat versions the results file.
const ResultsFormat = "gatehouse-loadgen/1"

// ExitThresholds is the exit code of a run whose thresholds broke (as
// k6 uses 99).
const ExitThresholds = 99

// Results is a run's outcome: one JSON document, mergeable with others
// (Merge) because every histogram is stored in HDR's compressed
// encoding at the same range and precision.
type Results struct {
	Format  string    `json:"format"`
	Name    string    `json:"name,omitempty"`
	Started time.Time `json:"started"`
	// Runs lists what was merged: "shard 0/2 of capacity", ...
	Runs      []string `json:"runs,omitempty"`
	DurationS float64  `json:"duration_s"`
	// DevicesPlanned is how many devices the arrival schedule brought
	// online in the time run; fewer DevicesArrived means the load
	// generator could not keep up (it is CPU-bound: add shards).
	DevicesPlanned int64 `json:"devices_planned"`
	DevicesArrived int64 `json:"devices_arrived"`
	// Late operations started more than late_after after their intended
	// time; Dropped ones never started (max_in_flight reached); Busy
	// ones found every candidate device busy.
	Late    int64 `json:"late"`
	Dropped int64 `json:"dropped"`
	Busy    int64 `json:"busy"`
	// Cut operations were cancelled by the end of the run: not outcomes,
	// so in no command's count, but each may have reached the gateway.
	Cut      int64           `json:"cut,omitempty"`
	Commands []CommandResult `json:"commands"`
	Series   []Point         `json:"series,omitempty"`
	// Breaches are the thresholds this result breaks (filled by Check).
	Breaches []string `json:"breaches,omitempty"`
	// Extra holds preset-specific findings (capacity, failopen).
	Extra map[string]any `json:"extra,omitempty"`
	// Wire is what the fleet's own sockets carried (wire.go), to check
	// against the gateway's statistics.
	Wire *WireCounts `json:"wire,omitempty"`
}

// CommandResult is one (command, status) histogram and its summary.
type CommandResult struct {
	Command string  `json:"command"`
	Status  string  `json:"status"`
	Count   int64   `json:"count"`
	P50ms   float64 `json:"p50_ms"`
	P90ms   float64 `json:"p90_ms"`
	P99ms   float64 `json:"p99_ms"`
	P999ms  float64 `json:"p999_ms"`
	MaxMs   float64 `json:"max_ms"`
	// Hist is the HDR histogram (microseconds) in the V2 compressed
	// base64 encoding (HdrHistogram's interchange format).
	Hist string `json:"hist"`
}

func encodeHist(h *hdr.Histogram) string {
	b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err) // only fails on a broken compressor
	}
	return string(b)
}

func decodeHist(s string) (*hdr.Histogram, error) {
	if s == "" {
		return newHist(), nil
	}
	h, err := hdr.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("loadgen: bad histogram: %w", err)
	}
	return h, nil
}

func summarize(cmd, status string, h *hdr.Histogram) CommandResult {
	return CommandResult{Command: cmd, Status: status, Count: h.TotalCount(),
		P50ms: ms(h.ValueAtQuantile(50)), P90ms: ms(h.ValueAtQuantile(90)), P99ms: ms(h.ValueAtQuantile(99)),
		P999ms: ms(h.ValueAtQuantile(99.9)), MaxMs: ms(h.Max()), Hist: encodeHist(h)}
}

// Histogram returns the merged histogram of cmd over the statuses
// accepted by keep (nil: all); cmd "all" means every non-Ping command.
func (r *Results) Histogram(cmd string, keep func(status string) bool) (*hdr.Histogram, error) {
	out := newHist()
	for _, c := range r.Commands {
		if cmd == "all" && c.Command == "Ping" || cmd != "all" && c.Command != cmd || keep != nil && !keep(c.Status) {
			continue
		}
		h, err := decodeHist(c.Hist)
		if err != nil {
			return nil, err
		}
		out.Merge(h)
	}
	return out, nil
}

// Totals returns all operations and the failed ones.
func (r *Results) Totals() (total, failed int64) {
	for _, c := range r.Commands {
		total += c.Count
		if c.Status != StatusOK {
			failed += c.Count
		}
	}
	return total, failed
}

// Merge combines results of shards or runs: histograms are added per
// (command, status), counters summed, series added second by second
// (percentiles recomputed from the merged per-second histograms).
func Merge(rs ...*Results) (*Results, error) {
	if len(rs) == 0 {
		return nil, errors.New("loadgen: nothing to merge")
	}
	out := &Results{Format: ResultsFormat, Name: rs[0].Name, Started: rs[0].Started}
	hists := map[histKey]*hdr.Histogram{}
	series := map[int]*Point{}
	secHists := map[int]*hdr.Histogram{}
	for i, r := range rs {
		if r.Format != ResultsFormat {
			return nil, fmt.Errorf("loadgen: result %d has format %q, want %q", i+1, r.Format, ResultsFormat)
		}
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		out.DurationS = max(out.DurationS, r.DurationS)
		out.DevicesArrived += r.DevicesArrived
		out.DevicesPlanned += r.DevicesPlanned
		out.Late += r.Late
		out.Dropped += r.Dropped
		out.Busy += r.Busy
		out.Cut += r.Cut
		if r.Wire != nil {
			if out.Wire == nil {
				out.Wire = &WireCounts{}
			}
			out.Wire.add(r.Wire)
		}
		if len(r.Runs) == 0 {
			out.Runs = append(out.Runs, r.Name)
		}
		out.Runs = append(out.Runs, r.Runs...)
		for _, c := range r.Commands {
			h, err := decodeHist(c.Hist)
			if err != nil {
				return nil, fmt.Errorf("result %d, %s %s: %w", i+1, c.Command, c.Status, err)
			}
			k := histKey{c.Command, c.Status}
			if hists[k] == nil {
				hists[k] = newHist()
			}
			if dropped := hists[k].Merge(h); dropped != 0 {
				return nil, fmt.Errorf("loadgen: merge lost %d values of %s %s", dropped, c.Command, c.Status)
			}
		}
		for _, p := range r.Series {
			q := series[p.T]
			if q == nil {
				q = &Point{T: p.T}
				series[p.T] = q
				secHists[p.T] = newHist()
			}
			q.Ops += p.Ops
			q.Errors += p.Errors
			q.Pings += p.Pings
			q.Devices += p.Devices
			q.Late += p.Late
			q.Dropped += p.Dropped
			h, err := decodeHist(p.Hist)
			if err != nil {
				return nil, err
			}
			secHists[p.T].Merge(h)
		}
	}
	keys := make([]histKey, 0, len(hists))
	for k := range hists {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].cmd < keys[j].cmd || keys[i].cmd == keys[j].cmd && keys[i].status < keys[j].status
	})
	for _, k := range keys {
		out.Commands = append(out.Commands, summarize(k.cmd, k.status, hists[k]))
	}
	ts := make([]int, 0, len(series))
	for t := range series {
		ts = append(ts, t)
	}
	sort.Ints(ts)
	for _, t := range ts {
		p, h := series[t], secHists[t]
		p.P50ms, p.P99ms = ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(99))
		if h.TotalCount() > 0 {
			p.Hist = encodeHist(h)
		}
		out.Series = append(out.Series, *p)
	}
	return out, nil
}

// Check evaluates the spec's thresholds against r, stores the breaches
// in r.Breaches and returns them.
func (r *Results) Check(t Thresholds) ([]string, error) {
	var out []string
	for _, cmd := range sortedKeys(t.P99) {
		h, err := r.Histogram(cmd, nil)
		if err != nil {
			return nil, err
		}
		if h.TotalCount() == 0 {
			continue
		}
		p99 := time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
		if limit := time.Duration(t.P99[cmd]); p99 > limit {
			out = append(out, fmt.Sprintf("p99 of %s is %v, above %v", cmd, p99, limit))
		}
	}
	if t.ErrorRate != nil {
		total, failed := r.Totals()
		if total > 0 {
			if rate := float64(failed) / float64(total); rate > *t.ErrorRate {
				out = append(out, fmt.Sprintf("error rate is %.4f (%d of %d), above %v", rate, failed, total, *t.ErrorRate))
			}
		}
	}
	r.Breaches = out
	return out, nil
}

// WriteFile writes r as indented JSON.
func (r *Results) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadResults reads a results file.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Summary is a short table of the commands for people.
func (r *Results) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s %-16s %9s %9s %9s %9s %9s %9s\n", "command", "status", "count", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms")
	for _, c := range r.Commands {
		fmt.Fprintf(&b, "%-15s %-16s %9d %9.2f %9.2f %9.2f %9.2f %9.2f\n", c.Command, c.Status, c.Count, c.P50ms, c.P90ms, c.P99ms, c.P999ms, c.MaxMs)
	}
	total, failed := r.Totals()
	if r.DevicesArrived < r.DevicesPlanned*99/100 {
		fmt.Fprintf(&b, "BEHIND: %d devices arrived of %d scheduled (the load generator could not keep up)\n", r.DevicesArrived, r.DevicesPlanned)
	}
	fmt.Fprintf(&b, "devices %d, operations %d, failed %d, late %d, dropped %d, busy %d\n", r.DevicesArrived, total, failed, r.Late, r.Dropped, r.Busy)
	for _, br := range r.Breaches {
		fmt.Fprintf(&b, "THRESHOLD BROKEN: %s\n", br)
	}
	return b.String()
}

// ExitCode is the process exit code for r: ExitThresholds when a
// threshold broke, else 0.
func (r *Results) ExitCode() int {
	if len(r.Breaches) > 0 {
		return ExitThresholds
	}
	return 0
}
