package exchange

import (
	"net/http"
	"sync/atomic"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
)

// Faults is the fault injection state of the ActiveSync listener (the
// admin API is never affected).
type Faults struct {
	// Down closes the listener: connections are refused until cleared.
	Down bool `json:"down"`
	// LatencyMs delays every request (0-600000).
	LatencyMs int `json:"latency_ms"`
	// ErrorRate answers this fraction of requests (0-1) with ErrorStatus.
	ErrorRate float64 `json:"error_rate"`
	// ErrorStatus is the 4xx or 5xx status of injected errors; default 503.
	ErrorStatus int `json:"error_status,omitempty"`
	// ResetRate resets this fraction of connections (0-1): the request is
	// read, then the TCP connection is closed with RST and no answer.
	ResetRate float64 `json:"reset_rate"`
	// SlowBodyBytesPerSec throttles response bodies to this rate (0 off).
	SlowBodyBytesPerSec int `json:"slow_body_bytes_per_sec"`
	// Gzip compresses the bodies of successful ActiveSync responses for
	// requests that accept gzip, as IIS's dynamic compression does in
	// front of a real Exchange (compress.go). Not a failure, but a
	// response shape a gateway that rewrites bodies must handle.
	Gzip bool `json:"gzip,omitempty"`
}

func (f Faults) validate() error {
	switch {
	case f.LatencyMs < 0 || f.LatencyMs > 600000:
		return fieldErr("latency_ms", "must be 0-600000")
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return fieldErr("error_rate", "must be 0-1")
	case f.ResetRate < 0 || f.ResetRate > 1:
		return fieldErr("reset_rate", "must be 0-1")
	case f.ErrorStatus != 0 && (f.ErrorStatus < 400 || f.ErrorStatus > 599):
		return fieldErr("error_status", "must be a 4xx or 5xx status")
	case f.SlowBodyBytesPerSec < 0:
		return fieldErr("slow_body_bytes_per_sec", "must not be negative")
	}
	return nil
}

// Specs are f in the shared fault layer (fakes/faults), in the order
// they act on a request; Gzip is Exchange's own.
func (f Faults) Specs() []faults.Spec {
	var out []faults.Spec
	if f.Down {
		out = append(out, faults.Spec{Name: "down", Toxic: faults.Down{Mode: faults.Refuse}})
	}
	if f.ResetRate > 0 {
		out = append(out, faults.Spec{Name: "reset", Direction: faults.Upstream, Toxicity: f.ResetRate, Toxic: faults.Reset{}})
	}
	if f.LatencyMs > 0 {
		out = append(out, faults.Spec{Name: "latency", Direction: faults.Upstream, Toxic: faults.Latency{DelayMs: f.LatencyMs}})
	}
	if f.ErrorRate > 0 {
		status := f.ErrorStatus
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		out = append(out, faults.Spec{Name: "error", Direction: faults.Upstream, Toxicity: f.ErrorRate, Toxic: faults.ErrorStatus{Status: status}})
	}
	if f.SlowBodyBytesPerSec > 0 {
		out = append(out, faults.Spec{Name: "slow_body", Direction: faults.Downstream, Toxic: faults.SlowBody{BytesPerSec: f.SlowBodyBytesPerSec}})
	}
	return out
}

// FaultCounters count what the faults did, so tests can observe them.
type FaultCounters struct {
	Delayed  int64 `json:"delayed"`
	Errors   int64 `json:"errors"`
	Resets   int64 `json:"resets"`
	Throttle int64 `json:"throttled"`
	// Compressed counts responses sent gzip-compressed (Faults.Gzip).
	Compressed int64 `json:"compressed"`
}

// faultState is the current Faults, applied through the shared layer but
// for Gzip, Exchange's own.
type faultState struct {
	*faults.State[Faults]
	compressed atomic.Int64
}

func newFaultState(seed uint64) *faultState { return &faultState{State: faults.NewState[Faults](seed)} }

func (f *faultState) counters() FaultCounters {
	c := f.Injector().Counters()
	return FaultCounters{Delayed: c["latency"], Errors: c["error"], Resets: c["reset"], Throttle: c["slow_body"],
		Compressed: f.compressed.Load()}
}

// middleware applies the faults to the ActiveSync listener (injected
// errors are plain text with Retry-After: 1), then compression, the
// innermost: a slow body is the compressed one.
func (f *faultState) middleware(next http.Handler) http.Handler {
	return f.Injector().Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.Get().Gzip && r.Method == http.MethodPost && acceptsGzip(r) {
			gw := &gzipWriter{ResponseWriter: w, compressed: func() { f.compressed.Add(1) }}
			defer gw.close()
			w = gw
		}
		next.ServeHTTP(w, r)
	}))
}
