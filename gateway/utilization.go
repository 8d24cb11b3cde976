package gateway

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
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

// utilizationLoop checks utilisation every 30 minutes; each resource
// above its threshold is logged at warn and raised as an alert (STA-13).
func (s *Server) utilizationLoop(ctx context.Context) {
	t := time.NewTicker(stats.UtilizationCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.utilizationAlerts(s.utilization())
		}
	}
}

// utilizationAlerts logs and raises one warning alert per resource of u
// above the seeds' thresholds (80 % thread pool, 70 % CPU, 70 % memory).
func (s *Server) utilizationAlerts(u stats.Utilization) {
	over := u.Over(stats.DefaultThresholds)
	stats.LogAlerts(s.log, over)
	for _, a := range over {
		s.alerts.Raise(alerts.Alert{ID: a.ID, Level: alerts.Warning, Service: "Sentry",
			Description: fmt.Sprintf("%s %.1f %% is above %.0f %%", a.Resource, a.Value, a.Threshold)})
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
