package gateway

import (
	"net/netip"

	"github.com/gatehouse-lab/gatehouse/gateway/activesync"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// deviceLimiter builds the device listener's per-source limits; the
// front ends share the loopback limits (DeviceLimits).
func deviceLimiter(cfg Config, st *stats.Registry) *activesync.SourceLimiter {
	var fronts []netip.Prefix
	for _, fe := range cfg.FrontEnds {
		if p, err := netip.ParsePrefix(fe); err == nil {
			fronts = append(fronts, p)
		}
	}
	l := cfg.DeviceLimits
	return activesync.NewSourceLimiter(
		activesync.SourceLimits{ConnectionsPerMinute: l.ConnectionsPerMinute, RequestsPerSecond: l.RequestsPerSecond},
		activesync.SourceLimits{ConnectionsPerMinute: l.LoopbackConnectionsPerMinute, RequestsPerSecond: l.LoopbackRequestsPerSecond},
		fronts, st)
}
