package idp

import (
	"fmt"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
)

// Faults is the fault state of the IdP. Down and LatencyMs act through the
// shared fault layer (fakes/faults) on the listener and requests; the
// token faults are the IdP's own.
type Faults struct {
	// Down closes the listener: connections are refused until cleared.
	Down bool `json:"down"`
	// LatencyMs delays every request (slow IdP), 0-600000.
	LatencyMs int `json:"latency_ms"`
	// ExpiredTokens issues access tokens that have already expired
	// (while the token answer's expires_in still says TokenTTL).
	ExpiredTokens bool `json:"expired_tokens"`
	// WrongKey signs access tokens with a key the JWKS never publishes,
	// under the current kid.
	WrongKey bool `json:"wrong_key"`
}

func (f Faults) validate() error {
	if f.LatencyMs < 0 || f.LatencyMs > 600000 {
		return &ConfigError{"latency_ms", fmt.Sprintf("%d: must be 0-600000", f.LatencyMs)}
	}
	return nil
}

// Specs maps Down and LatencyMs onto the shared fault layer.
func (f Faults) Specs() []faults.Spec {
	var out []faults.Spec
	if f.Down {
		out = append(out, faults.Spec{Name: "down", Toxic: faults.Down{Mode: faults.Refuse}})
	}
	if f.LatencyMs > 0 {
		out = append(out, faults.Spec{Name: "latency", Direction: faults.Upstream, Toxic: faults.Latency{DelayMs: f.LatencyMs}})
	}
	return out
}
