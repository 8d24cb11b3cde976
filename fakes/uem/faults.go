package uem

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Faults is the fault injection state of the gateway-facing side. The admin
// API is never affected.
type Faults struct {
	// Down closes the gateway-facing listener: connections are refused.
	Down bool `json:"down"`
	// Hang holds every gateway request without an answer until the fault
	// is cleared or the client gives up.
	Hang bool `json:"hang"`
	// LatencyMs delays every gateway request (0-600000).
	LatencyMs int `json:"latency_ms"`
	// ErrorRate answers this fraction of gateway requests (0-1) with 503
	// "unavailable".
	ErrorRate float64 `json:"error_rate"`
	// DropNotifications silently loses UEM → gateway notifications (the
	// periodic resync has to catch up, FLOW-13).
	DropNotifications bool `json:"drop_notifications"`
	// PartitionGatewayToUEM cuts gateway → UEM traffic one way: the
	// connection is closed without an answer. Notifications still flow.
	PartitionGatewayToUEM bool `json:"partition_gateway_to_uem"`
	// PartitionUEMToGateway cuts UEM → gateway traffic one way: every
	// push fails (and is retried) while gateway requests are served.
	PartitionUEMToGateway bool `json:"partition_uem_to_gateway"`
	// AuthStatus, when 401 or 403, answers every gateway request with it,
	// as a UEM does that refuses the gateway's credential (a revoked or
	// rotated token) or no longer lets the gateway in: the UEM is
	// reachable and says no, which is not an outage.
	AuthStatus int `json:"auth_status,omitempty"`
}

func (f Faults) validate() error {
	switch {
	case f.LatencyMs < 0 || f.LatencyMs > 600000:
		return uemapi.FieldError("latency_ms", "must be 0-600000")
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return uemapi.FieldError("error_rate", "must be 0-1")
	case f.AuthStatus != 0 && f.AuthStatus != http.StatusUnauthorized && f.AuthStatus != http.StatusForbidden:
		return uemapi.FieldError("auth_status", "must be 0, 401 or 403")
	}
	return nil
}

type faultState struct {
	mu      sync.Mutex
	cur     Faults
	rng     *rand.Rand
	release chan struct{} // closed when a hang ends
	closed  bool
}

func newFaultState(seed uint64) *faultState {
	return &faultState{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), release: make(chan struct{})}
}

func (f *faultState) get() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

func (f *faultState) set(nf Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur.Hang && !nf.Hang && !f.closed {
		close(f.release)
		f.release = make(chan struct{})
	}
	f.cur = nf
}

// stop releases hung requests for good (shutdown).
func (f *faultState) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.release)
	}
}

func (f *faultState) roll(rate float64) bool {
	if rate <= 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < rate
}

func (f *faultState) snapshot() (Faults, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur, f.release
}

// middleware applies hang, latency, error rate, the refused credential
// and the gateway → UEM partition to the gateway-facing API.
func (f *faultState) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, release := f.snapshot()
		if cur.PartitionGatewayToUEM {
			abort(w)
			return
		}
		if cur.Hang {
			select {
			case <-r.Context().Done():
				abort(w) // never an empty answer
				return
			case <-release:
			}
		}
		if cur.LatencyMs > 0 {
			if !sleepCtx(r.Context(), time.Duration(cur.LatencyMs)*time.Millisecond) {
				abort(w)
				return
			}
		}
		switch cur.AuthStatus {
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-uem", error="invalid_token"`)
			writeErr(w, uemapi.Errorf(uemapi.CodeUnauthorized, "injected fault: the gateway credential is refused"))
			return
		case http.StatusForbidden:
			writeJSON(w, http.StatusForbidden, uemapi.ErrorBody{Error: &uemapi.Error{Code: codeForbidden, Message: "injected fault: the gateway is not allowed"}})
			return
		}
		if f.roll(cur.ErrorRate) {
			writeErr(w, uemapi.Errorf(uemapi.CodeUnavailable, "injected fault: error rate %.2f", cur.ErrorRate))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// codeForbidden is the error code of an injected 403; the contract has no
// code of its own for it, as the real UEM answers it only to a gateway it
// no longer serves.
const codeForbidden uemapi.Code = "forbidden"

// abort closes the connection without an answer.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
