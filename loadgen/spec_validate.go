package loadgen

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Validate checks the spec and names the first field at fault.
func (s *Spec) Validate() error {
	if s.Devices < 1 || s.Devices > 10_000_000 {
		return badField("devices", "must be 1-10000000, got %d", s.Devices)
	}
	if s.Users < 1 || s.Users > 1000 {
		return badField("users", "must be 1-1000, got %d", s.Users)
	}
	if s.Duration <= 0 {
		return badField("duration", "is required (e.g. 60s)")
	}
	if s.NewShare < 0 || s.NewShare > 1 {
		return badField("new_share", "must be between 0 and 1, got %v", s.NewShare)
	}
	if s.MaxInFlight < 1 {
		return badField("max_in_flight", "must be at least 1, got %d", s.MaxInFlight)
	}
	if err := s.Mix.validate(); err != nil {
		return err
	}
	if err := s.validateProfiles(); err != nil {
		return err
	}
	if err := s.Arrival.validate(); err != nil {
		return err
	}
	if err := s.Apps.validate(); err != nil {
		return err
	}
	return s.Thresholds.validate()
}

// badField is a *FieldError for field with a formatted message.
func badField(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// validate checks that each weight names a known platform, client or
// version, is >= 0, and that each set sums to more than 0.
func (m Mix) validate() error {
	for _, set := range []struct {
		field string
		w     map[string]float64
		known []string
	}{{"mix.platforms", m.Platforms, platforms}, {"mix.clients", m.Clients, clients}, {"mix.versions", m.Versions, versions}, {"mix.auth", m.Auth, authModes}} {
		if set.field == "mix.auth" && len(set.w) == 0 {
			continue // optional: all Basic
		}
		total := 0.0
		for _, k := range sortedKeys(set.w) {
			if !contains(set.known, k) {
				return badField(set.field+"."+k, "unknown; one of %s", strings.Join(set.known, ", "))
			}
			if v := set.w[k]; v < 0 || math.IsNaN(v) {
				return badField(set.field+"."+k, "weight must be >= 0, got %v", v)
			}
			total += set.w[k]
		}
		if total <= 0 {
			return badField(set.field, "weights must sum to more than 0")
		}
	}
	return nil
}

// validateProfiles checks each profile and that every client class of
// the mix has one (its own or the default).
func (s *Spec) validateProfiles() error {
	for _, k := range sortedKeys(s.Profiles) {
		p := s.Profiles[k]
		f := "profiles." + k
		if k != "default" && !contains(clients, k) {
			return badField(f, "unknown client class; one of default, %s", strings.Join(clients, ", "))
		}
		if p.PingHeartbeat != 0 && (p.PingHeartbeat < Duration(time.Second) || p.PingHeartbeat > Duration(3540*time.Second)) {
			return badField(f+".ping_heartbeat", "must be 1s-59m (0 disables Ping), got %v", time.Duration(p.PingHeartbeat))
		}
		if p.AttachmentShare < 0 || p.AttachmentShare > 1 {
			return badField(f+".attachment_share", "must be between 0 and 1, got %v", p.AttachmentShare)
		}
	}
	for _, c := range s.Mix.classes() {
		if _, ok := s.profile(c); !ok {
			return badField("profiles", "no profile for client class %q and no default", c)
		}
	}
	return nil
}

// validate checks the fields the arrival's shape uses.
func (a Arrival) validate() error {
	switch a.Shape {
	case "ramp":
		if a.Over <= 0 {
			return badField("arrival.over", "must be > 0")
		}
	case "constant":
		if a.Rate <= 0 {
			return badField("arrival.rate", "must be > 0 devices/s for a constant arrival")
		}
	case "linear":
		if a.From < 0 || a.To < 0 || a.From+a.To == 0 {
			return badField("arrival.from", "from and to must be >= 0 and not both 0")
		}
		if a.Over <= 0 {
			return badField("arrival.over", "must be > 0 for a linear arrival")
		}
	case "sine":
		if a.Rate <= 0 {
			return badField("arrival.rate", "must be > 0 (the mean) for a sine arrival")
		}
		if a.Amplitude < 0 || a.Amplitude > a.Rate {
			return badField("arrival.amplitude", "must be between 0 and rate (%v)", a.Rate)
		}
		if a.Period <= 0 {
			return badField("arrival.period", "must be > 0 for a sine arrival")
		}
	case "steps":
		if len(a.Steps) == 0 {
			return badField("arrival.steps", "need at least one step")
		}
		for i, st := range a.Steps {
			if i > 0 && st.At <= a.Steps[i-1].At {
				return badField(fmt.Sprintf("arrival.steps[%d].at", i), "must be after the previous step")
			}
			if st.Rate < 0 {
				return badField(fmt.Sprintf("arrival.steps[%d].rate", i), "must be >= 0")
			}
		}
	default:
		return badField("arrival.shape", "unknown %q; one of ramp, constant, linear, sine, steps", a.Shape)
	}
	return nil
}

// validate checks that each p99 threshold names a command (or "all") and
// is > 0, and that the error rate is a fraction.
func (t Thresholds) validate() error {
	for _, k := range sortedKeys(t.P99) {
		if k != "all" && !contains(commands, k) {
			return badField("thresholds.p99."+k, "unknown command; one of all, %s", strings.Join(commands, ", "))
		}
		if t.P99[k] <= 0 {
			return badField("thresholds.p99."+k, "must be > 0")
		}
	}
	if er := t.ErrorRate; er != nil && (*er < 0 || *er > 1) {
		return badField("thresholds.error_rate", "must be between 0 and 1, got %v", *er)
	}
	return nil
}
