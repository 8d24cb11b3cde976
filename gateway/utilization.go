package gateway

import (
	"context"
	"net/url"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// utilSampler keeps the previous CPU sample between utilisation reads.
var utilSampler stats.Sampler

// utilization is `show sentry utilization` (STA-12). Go has no thread
// pool to fill: the figure is 0.0 %, as the seed's own example shows, so
// its alert cannot fire (documented in docs/gateway.md).
func (s *Server) utilization() stats.Utilization {
	cpu, sysMem, heap := utilSampler.Sample(time.Now())
	return stats.Utilization{ConnectedDevices: s.cache.Len(), OpenConnections: s.stats.OpenConns(),
		CPU: cpu, SystemMemory: sysMem, HeapMemory: heap}
}

// utilizationLoop checks utilisation every 30 minutes and logs a warn
// with a stable alert_id for each resource above its threshold (STA-13).
func (s *Server) utilizationLoop(ctx context.Context) {
	t := time.NewTicker(stats.UtilizationCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			stats.LogAlerts(s.log, s.utilization().Over(stats.DefaultThresholds))
		}
	}
}

// uemHost is the UEM's host for Service Diagnosis messages (SVD-02).
func (s *Server) uemHost() string {
	if u, err := url.Parse(s.cfg.UEM.URL); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return s.cfg.UEM.URL
}

// nonEmpty is the one-element list of v, or none when v is "".
func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}
