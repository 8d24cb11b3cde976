package faults

import (
	"net/http"
	"time"
)

// maxDelayMs bounds every delay a fault imposes (ten minutes).
const maxDelayMs = 600_000

// Latency delays requests by DelayMs ± JitterMs: upstream before the
// handler runs, downstream the handler runs at once and its answer
// waits. A client that gives up first gets no answer.
type Latency struct {
	DelayMs  int `json:"delay_ms"`
	JitterMs int `json:"jitter_ms,omitempty"`
}

func init() { Register("latency", func() Toxic { return &Latency{} }) }

// Kind is "latency".
func (Latency) Kind() string { return "latency" }

// Validate checks the delay and jitter.
func (t Latency) Validate() error {
	switch {
	case t.DelayMs < 0 || t.DelayMs > maxDelayMs:
		return attrErr("delay_ms", "must be 0-%d", maxDelayMs)
	case t.JitterMs < 0 || t.JitterMs > t.DelayMs:
		return attrErr("jitter_ms", "must be 0 to delay_ms")
	}
	return nil
}

// Serve delays the request or its answer.
func (t Latency) Serve(w http.ResponseWriter, r *http.Request, next http.Handler, env Env) {
	d := time.Duration(t.DelayMs) * time.Millisecond
	if t.JitterMs > 0 {
		d += time.Duration((env.Float64()*2 - 1) * float64(time.Duration(t.JitterMs)*time.Millisecond))
	}
	wait := func() bool { return sleep(r.Context().Done(), env.Done, d) }
	holdOrPass(w, r, next, env, wait)
}

// holdOrPass waits (upstream) before next, or lets next run and holds its
// answer (downstream); a failed wait (the client left) means no answer.
func holdOrPass(w http.ResponseWriter, r *http.Request, next http.Handler, env Env, wait func() bool) {
	if env.Direction == Upstream {
		if !wait() {
			Abort(w)
			return
		}
		next.ServeHTTP(w, r)
		return
	}
	hw := holdAnswer(w, wait)
	next.ServeHTTP(hw, r)
	hw.pass() // an answer without a body waits too
}
