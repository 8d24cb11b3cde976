package gateway

import (
	"net/http"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse-lab/gatehouse/gateway/oauth"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// metricsHandler serves the Prometheus metrics of the admin API: the
// gateway's statistics and peaks, the Go runtime's and the process's.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(stats.NewCollector(s.stats, s.peaks), collectors.NewGoCollector(
		// The live heap after the last collection (go_gc_heap_live_bytes):
		// what devices really cost, where the heap in use also counts the
		// garbage the collector's heap floor lets pile up.
		collectors.WithGoCollectorRuntimeMetrics(collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/(heap/live:bytes|cycles/total:gc-cycles)$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), oauth.NewCollector(s.as.OAuth))
	if m := s.AppTunnelMetrics(); m != nil {
		reg.MustRegister(m)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
