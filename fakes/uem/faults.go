package uem

import (
	"fmt"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
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
	// ErrorRate answers this fraction of gateway requests (0-1) with
	// ErrorStatus, an outage to the gateway.
	ErrorRate float64 `json:"error_rate"`
	// ErrorStatus is the 5xx status of injected errors; default 503
	// "unavailable" (500 is "internal").
	ErrorStatus int `json:"error_status,omitempty"`
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
	// rotated token) or no longer lets the gateway in; 429 is a UEM
	// shedding load (with Retry-After). The UEM is reachable and says no,
	// which is not an outage.
	AuthStatus int `json:"auth_status,omitempty"`
}

func (f Faults) validate() error {
	switch {
	case f.LatencyMs < 0 || f.LatencyMs > 600000:
		return uemapi.FieldError("latency_ms", "must be 0-600000")
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return uemapi.FieldError("error_rate", "must be 0-1")
	case f.ErrorStatus != 0 && (f.ErrorStatus < 500 || f.ErrorStatus > 599):
		return uemapi.FieldError("error_status", "must be a 5xx status")
	case f.AuthStatus != 0 && f.AuthStatus != http.StatusUnauthorized && f.AuthStatus != http.StatusForbidden &&
		f.AuthStatus != http.StatusTooManyRequests:
		return uemapi.FieldError("auth_status", "must be 0, 401, 403 or 429")
	}
	return nil
}

// Specs are the faults of the shared layer (fakes/faults) in f, in the
// order they act on a request; the notifications and partitions are the
// UEM's own.
func (f Faults) Specs() []faults.Spec {
	var out []faults.Spec
	if f.Down {
		out = append(out, faults.Spec{Name: "down", Toxic: faults.Down{Mode: faults.Refuse}})
	}
	if f.Hang {
		out = append(out, faults.Spec{Name: "hang", Direction: faults.Upstream, Toxic: faults.Hang{}})
	}
	if f.LatencyMs > 0 {
		out = append(out, faults.Spec{Name: "latency", Direction: faults.Upstream, Toxic: faults.Latency{DelayMs: f.LatencyMs}})
	}
	if f.AuthStatus != 0 {
		out = append(out, faults.Spec{Name: "auth", Direction: faults.Upstream, Toxic: faults.ErrorStatus{Status: f.AuthStatus}})
	}
	if f.ErrorRate > 0 {
		status := f.ErrorStatus
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		out = append(out, faults.Spec{Name: "error", Direction: faults.Upstream, Toxicity: f.ErrorRate,
			Toxic: faults.ErrorStatus{Status: status}})
	}
	return out
}

// faultState is the current Faults: the shared layer's (down, hang,
// latency, refused credential, error rate) and the UEM's own.
type faultState struct{ *faults.State[Faults] }

func newFaultState(seed uint64) *faultState { return &faultState{faults.NewState[Faults](seed)} }

// middleware applies the gateway → UEM partition, then hang, latency, the
// refused credential and error rate, to the gateway-facing API.
func (f *faultState) middleware(next http.Handler) http.Handler {
	shared := f.Injector().Middleware(next, faults.WithErrorWriter(writeInjectedError))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.Get().PartitionGatewayToUEM {
			faults.Abort(w)
			return
		}
		shared.ServeHTTP(w, r)
	})
}

// writeInjectedError answers an injected error in the contract's shape:
// a refused credential (401, 403) or the error rate (503).
func writeInjectedError(w http.ResponseWriter, _ *http.Request, status int, env faults.Env) {
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-uem", error="invalid_token"`)
		writeErr(w, uemapi.Errorf(uemapi.CodeUnauthorized, "injected fault: the gateway credential is refused"))
	case http.StatusForbidden:
		writeJSON(w, http.StatusForbidden, uemapi.ErrorBody{Error: &uemapi.Error{Code: codeForbidden, Message: "injected fault: the gateway is not allowed"}})
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, uemapi.ErrorBody{Error: &uemapi.Error{Code: codeRateLimited, Message: "injected fault: too many requests"}})
	case http.StatusServiceUnavailable:
		writeErr(w, uemapi.Errorf(uemapi.CodeUnavailable, "injected fault: error rate %.2f", env.Toxicity))
	default: // another 5xx (ErrorStatus)
		writeJSON(w, status, uemapi.ErrorBody{Error: &uemapi.Error{Code: uemapi.CodeInternal,
			Message: fmt.Sprintf("injected fault: error rate %.2f", env.Toxicity)}})
	}
}

// codeForbidden is the error code of an injected 403; the contract has no
// code of its own for it, as the real UEM answers it only to a gateway it
// no longer serves.
const codeForbidden uemapi.Code = "forbidden"

// codeRateLimited is the error code of an injected 429.
const codeRateLimited uemapi.Code = "rate_limited"
