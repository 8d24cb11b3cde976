package stats

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes the global counters and peaks to Prometheus under
// names derived from the CLI's ("d-http-requests" becomes
// gatehouse_d_http_requests_total), so dashboards and the CLI agree.
type Collector struct {
	reg    *Registry
	peaks  *Peaks
	counts [numCounters]*prometheus.Desc
	gauges [numGauges]*prometheus.Desc
}

// NewCollector returns a collector over r and p.
func NewCollector(r *Registry, p *Peaks) *Collector {
	c := &Collector{reg: r, peaks: p}
	for i, n := range counterNames {
		c.counts[i] = prometheus.NewDesc("gatehouse_"+promName(n)+"_total", "Statistics counter "+n+" summed over devices.", nil, nil)
	}
	for i, n := range gaugeNames {
		c.gauges[i] = prometheus.NewDesc("gatehouse_"+promName(n), "Statistics peak "+n+".", nil, nil)
	}
	return c
}

func promName(n string) string {
	n = strings.ReplaceAll(n, "%", "percent")
	return strings.NewReplacer("-", "_").Replace(strings.ToLower(n))
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.counts {
		ch <- d
	}
	for _, d := range c.gauges {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for i, v := range c.reg.Global() {
		ch <- prometheus.MustNewConstMetric(c.counts[i], prometheus.CounterValue, float64(v.Value))
	}
	for i, p := range c.peaks.All() {
		ch <- prometheus.MustNewConstMetric(c.gauges[i], prometheus.GaugeValue, p.Value)
	}
}
