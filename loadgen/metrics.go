package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// Histogram range: 1µs to 1h at 3 significant digits. Every histogram in
// every run uses it, so any two merge without loss.
const (
	histMin    = 1
	histMax    = int64(time.Hour / time.Microsecond)
	histDigits = 3
)

func newHist() *hdr.Histogram { return hdr.New(histMin, histMax, histDigits) }

// Status labels of an operation.
const (
	StatusOK        = "ok"
	StatusBlocked   = "blocked"
	StatusWiped     = "wiped"
	StatusTransport = "transport"
)

// Classify turns a device command's error into a status label: ok,
// blocked, wiped, http_NNN, status_NNN, provision_loop or transport.
func Classify(err error) string {
	var se *device.StatusError
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, device.ErrBlocked):
		return StatusBlocked
	case errors.Is(err, device.ErrWiped):
		return StatusWiped
	case errors.Is(err, device.ErrProvision):
		return "provision_loop"
	case errors.As(err, &se):
		if se.HTTPStatus != 200 {
			return fmt.Sprintf("http_%d", se.HTTPStatus)
		}
		return fmt.Sprintf("status_%d", se.Status)
	}
	return StatusTransport
}

type histKey struct{ cmd, status string }

// Recorder collects latencies per (command, status), a per-second time
// series and the late / dropped counters. It is safe for concurrent use.
type Recorder struct {
	start time.Time

	mu     sync.Mutex
	hists  map[histKey]*hdr.Histogram
	sec    *hdr.Histogram // non-Ping latencies of the current second
	secOps int64
	secErr int64
	series []Point

	late, dropped, busy atomic.Int64
	cut                 atomic.Int64 // operations the end of the run cancelled
	pings               atomic.Int64 // Pings in flight
	devices             atomic.Int64 // devices arrived
}

// NewRecorder starts a recorder whose series counts seconds from start.
func NewRecorder(start time.Time) *Recorder {
	return &Recorder{start: start, hists: map[histKey]*hdr.Histogram{}, sec: newHist()}
}

// Record adds one operation's latency. Cancellation at the end of a run
// is not an outcome and is not recorded.
func (r *Recorder) Record(cmd string, err error, d time.Duration) {
	if errors.Is(err, context.Canceled) {
		r.cut.Add(1)
		return
	}
	r.RecordStatus(cmd, Classify(err), d)
}

// RecordStatus adds one latency under an explicit status label.
func (r *Recorder) RecordStatus(cmd, status string, d time.Duration) {
	us := max(d.Microseconds(), histMin)
	us = min(us, histMax)
	k := histKey{cmd, status}
	r.mu.Lock()
	h := r.hists[k]
	if h == nil {
		h = newHist()
		r.hists[k] = h
	}
	_ = h.RecordValue(us)
	if cmd != "Ping" {
		_ = r.sec.RecordValue(us)
		r.secOps++
	}
	if status != StatusOK {
		r.secErr++
	}
	r.mu.Unlock()
}

// Point is one second of the time series.
type Point struct {
	T       int     `json:"t"`       // seconds since the start
	Ops     int64   `json:"ops"`     // non-Ping operations completed
	Errors  int64   `json:"errors"`  // failed operations (Ping included)
	P50ms   float64 `json:"p50_ms"`  // non-Ping latency
	P99ms   float64 `json:"p99_ms"`  //
	Pings   int64   `json:"pings"`   // Pings in flight at the tick
	Devices int64   `json:"devices"` // devices arrived so far
	Late    int64   `json:"late"`    // cumulative
	Dropped int64   `json:"dropped"` // cumulative
	// Hist is the second's non-Ping histogram, encoded, so merged
	// series keep exact percentiles.
	Hist string `json:"hist,omitempty"`
}

// Tick closes the current second and returns its point.
func (r *Recorder) Tick(now time.Time) Point {
	r.mu.Lock()
	h, ops, errs := r.sec, r.secOps, r.secErr
	r.sec, r.secOps, r.secErr = newHist(), 0, 0
	r.mu.Unlock()
	p := Point{T: int(now.Sub(r.start).Round(time.Second) / time.Second), Ops: ops, Errors: errs,
		P50ms: ms(h.ValueAtQuantile(50)), P99ms: ms(h.ValueAtQuantile(99)),
		Pings: r.pings.Load(), Devices: r.devices.Load(), Late: r.late.Load(), Dropped: r.dropped.Load() + r.busy.Load()}
	if h.TotalCount() > 0 {
		p.Hist = encodeHist(h)
	}
	r.mu.Lock()
	r.series = append(r.series, p)
	r.mu.Unlock()
	return p
}

func ms(us int64) float64 { return float64(us) / 1000 }

// Results returns what was recorded so far.
func (r *Recorder) Results() *Results {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Results{Format: ResultsFormat, Started: r.start, Late: r.late.Load(), Dropped: r.dropped.Load(), Busy: r.busy.Load(), Cut: r.cut.Load(),
		DevicesArrived: r.devices.Load(), Series: append([]Point(nil), r.series...)}
	keys := make([]histKey, 0, len(r.hists))
	for k := range r.hists {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].cmd != keys[j].cmd {
			return keys[i].cmd < keys[j].cmd
		}
		return keys[i].status < keys[j].status
	})
	for _, k := range keys {
		res.Commands = append(res.Commands, summarize(k.cmd, k.status, r.hists[k]))
	}
	return res
}
