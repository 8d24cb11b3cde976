package dashboard

import (
	"context"
	"time"
)

// gwRequestsCounter is the gateway's count of requests from all devices
// (`statistics global device`), lab-made or not: loadgen fleets and real
// devices show in the charts through it.
const gwRequestsCounter = "d-http-requests"

// gatewayRequests reads the gateway-wide request counter; ok is false
// when the gateway does not answer or has statistics off.
func (s *Server) gatewayRequests(ctx context.Context) (uint64, bool) {
	cs, err := s.adm.StatsGlobalDevice(ctx, gwRequestsCounter)
	if err != nil {
		return 0, false
	}
	for _, c := range cs {
		if c.Name == gwRequestsCounter {
			return c.Value, true
		}
	}
	return 0, false
}

// counterRate is the per-second rate of a counter between two samples.
// A counter that went down (the gateway restarted) or a missing previous
// sample gives 0, not a negative or huge spike.
func counterRate(prev, cur uint64, prevOK, curOK bool, dt time.Duration) float64 {
	if !prevOK || !curOK || cur < prev || dt <= 0 {
		return 0
	}
	return float64(cur-prev) / dt.Seconds()
}
