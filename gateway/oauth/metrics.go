package oauth

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	acceptedDesc = prometheus.NewDesc("gatehouse_oauth_tokens_accepted_total",
		"Bearer tokens the gateway validated (requests; cached tokens included).", nil, nil)
	refusedDesc = prometheus.NewDesc("gatehouse_oauth_tokens_refused_total",
		"Bearer tokens refused (401 with a Bearer challenge), and IdP requests that failed, by reason.", []string{"reason"}, nil)
)

// collector exports the counts of the Gate in force. They start over
// when a new OAuth configuration replaces the Gate (a counter reset).
type collector struct{ gate func() *Gate }

// NewCollector exports the counts of the Gate gate returns (nil: none).
func NewCollector(gate func() *Gate) prometheus.Collector { return collector{gate} }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- acceptedDesc
	ch <- refusedDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	g := c.gate()
	if g == nil {
		return
	}
	n := g.Counts()
	ch <- prometheus.MustNewConstMetric(acceptedDesc, prometheus.CounterValue, float64(n.Accepted))
	reasons := make([]string, 0, len(n.Refused))
	for r := range n.Refused {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(n.Refused[r]), r)
	}
}
