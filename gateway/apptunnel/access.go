package apptunnel

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/identity"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// UEM is the part of the gateway-UEM contract tunnels need;
// *uemapi.Client implements it.
type UEM interface {
	ReportAppTunnel(ctx context.Context, r uemapi.AppTunnelReport) (*uemapi.AppTunnel, error)
	AppTunnels(ctx context.Context, cursor string, limit int) (*uemapi.AppTunnelPage, error)
}

// reasonDeviceBlocked is the UEM's reason for a tunnel blocked by the
// device-level Block App Tunnels (ATM-04); the fake UEM uses it.
const reasonDeviceBlocked = "device_tunnels_blocked"

// Tunnels decides on (user, app, device) tunnels with the UEM and the
// device cache (FLOW-06, FLOW-07, FLOW-12). An app entry's Policy field
// holds the UEM's reason for its state, so a device-level block can be
// told from a tunnel block.
type Tunnels struct {
	UEM         UEM
	Cache       *devicecache.Cache
	CallTimeout time.Duration // one UEM call; default 10 s
	Log         *slog.Logger
	// Journal, when set, records each decision in the persistent list.
	Journal func(devicecache.Entry)
}

// Request names one tunnel access.
type Request struct {
	User, App, DeviceUUID, Service string
	Version                        uemapi.TunnelVersion
}

// Decision is the outcome of one access.
type Decision struct {
	Entry       devicecache.Entry
	Refusal     Reason // "" when allowed
	FirstAccess bool
	FailOpen    bool
}

// Key returns the cache key of a tunnel, its user normalised as the
// UEM's listings are (identity.Normalize).
func Key(deviceUUID, user, app string) (devicecache.Key, error) {
	u, err := identity.Normalize(user)
	if err != nil {
		return devicecache.Key{}, fmt.Errorf("apptunnel: user: %w", err)
	}
	for _, f := range []string{deviceUUID, app} {
		if err := identity.Check(f); err != nil || f == "" {
			return devicecache.Key{}, fmt.Errorf("apptunnel: device uuid or app id %q: %w", f, err)
		}
	}
	return devicecache.Key{DeviceID: deviceUUID, User: u, App: app}, nil
}

// Access decides one tunnel access: from the cache when the tunnel is
// known, else by reporting it to the UEM; when the UEM cannot be asked the
// tunnel is allowed unvalidated (FLOW-07).
func (t *Tunnels) Access(ctx context.Context, r Request) (Decision, error) {
	key, err := Key(r.DeviceUUID, r.User, r.App)
	if err != nil {
		return Decision{}, err
	}
	if e, ok := t.Cache.Get(key); ok {
		t.Cache.Touch(key, string(r.Version))
		return Decision{Entry: e, Refusal: refusalOf(e)}, nil
	}
	timeout := t.CallTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	at, err := t.UEM.ReportAppTunnel(cctx, uemapi.AppTunnelReport{AppID: r.App, User: key.User, DeviceUUID: r.DeviceUUID, Service: r.Service, Version: r.Version})
	cancel()
	switch uemapi.Classify(err) {
	case uemapi.NoFailure:
		e := t.apply(key, at.State, at.Reason, true, r.Version)
		return Decision{Entry: e, Refusal: refusalOf(e), FirstAccess: true}, nil
	case uemapi.Unreachable:
		e, _ := t.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
			if exists {
				return false
			}
			e.State, e.Validated, e.ProtocolVersion, e.Connections, e.LastSeen = devicecache.Allowed, false, string(r.Version), 1, time.Now()
			return true
		})
		t.log().Warn("uem unreachable; app tunnel let in by fail-open", "app", r.App, "device", r.DeviceUUID, "error", err)
		return Decision{Entry: e, Refusal: refusalOf(e), FirstAccess: true, FailOpen: true}, nil
	default:
		t.log().Warn("uem refused the app tunnel report; tunnel kept out", "app", r.App, "device", r.DeviceUUID, "error", err)
		return Decision{Entry: devicecache.Entry{Key: key, State: devicecache.Blocked}, Refusal: ReasonTunnelBlocked, FirstAccess: true}, nil
	}
}

// apply stores the UEM's state for key and returns the entry.
func (t *Tunnels) apply(key devicecache.Key, st uemapi.TunnelState, why string, touch bool, v uemapi.TunnelVersion) devicecache.Entry {
	e, changed := t.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
		e.Validated, e.State, e.Policy = true, devicecache.Allowed, why
		if st == uemapi.TunnelBlock {
			e.State = devicecache.Blocked
		}
		if v != "" {
			e.ProtocolVersion = string(v)
		}
		if touch {
			e.Connections++
			e.LastSeen = time.Now()
		}
		return true
	})
	if changed && t.Journal != nil {
		t.Journal(e)
	}
	return e
}

func refusalOf(e devicecache.Entry) Reason {
	if e.State != devicecache.Blocked {
		return ""
	}
	if e.Policy == reasonDeviceBlocked {
		return ReasonDeviceBlocked
	}
	return ReasonTunnelBlocked
}

func (t *Tunnels) log() *slog.Logger {
	if t.Log == nil {
		return slog.Default()
	}
	return t.Log
}
