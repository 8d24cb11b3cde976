package apptunnel

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// Metrics counts the listener's work (docs/apptunnel.md §6).
type Metrics struct {
	refusals    sync.Map // Reason -> *atomic.Uint64
	HTTP        atomic.Uint64
	Connect     atomic.Uint64
	Open        atomic.Int64 // CONNECT tunnels open now
	BytesUp     atomic.Uint64
	BytesDown   atomic.Uint64
	FirstAccess atomic.Uint64
	FailOpen    atomic.Uint64

	pending sync.Map // net.Conn -> *connInfo
	stats   *stats.Registry
}

// connInfo notes whether the handler saw the request a connection began,
// so that requests net/http refuses itself (a malformed request line, a
// head over its cap) are counted too.
type connInfo struct {
	handled atomic.Bool
	// auth is the identity checked on this connection's certificate, with
	// the authenticator that checked it: a TLS connection's certificate
	// cannot change, so later requests skip the chain verification while
	// the device authentication in use is the same.
	auth atomic.Pointer[checkedIdentity]
}

type checkedIdentity struct {
	by    any // the *deviceauth.Authenticator, or the Acceptor of a Kerberos ticket
	token string
	id    *deviceauth.Identity
}

type connKey struct{}

// NewMetrics returns zeroed counters.
func NewMetrics() *Metrics {
	m := &Metrics{}
	for _, r := range Reasons {
		m.refusals.Store(r, new(atomic.Uint64))
	}
	return m
}

// Refused counts one refusal.
func (m *Metrics) Refused(r Reason) {
	if v, ok := m.refusals.Load(r); ok {
		v.(*atomic.Uint64).Add(1)
	}
}

// Refusals returns the count of one reason.
func (m *Metrics) Refusals(r Reason) uint64 {
	if v, ok := m.refusals.Load(r); ok {
		return v.(*atomic.Uint64).Load()
	}
	return 0
}

func (m *Metrics) connContext(ctx context.Context, c net.Conn) context.Context {
	ci := &connInfo{}
	ci.handled.Store(true) // nothing pending until a request is read
	m.pending.Store(c, ci)
	return context.WithValue(ctx, connKey{}, ci)
}

// seen marks the request's connection as handled.
func (m *Metrics) seen(r *http.Request) {
	if ci, ok := r.Context().Value(connKey{}).(*connInfo); ok {
		ci.handled.Store(true)
	}
}

func (m *Metrics) connState(c net.Conn, st http.ConnState) {
	v, ok := m.pending.Load(c)
	if !ok {
		return
	}
	ci := v.(*connInfo)
	switch st {
	case http.StateActive:
		ci.handled.Store(false)
	case http.StateIdle, http.StateClosed:
		if !ci.handled.Swap(true) {
			m.Refused(ReasonMalformed) // net/http answered 400/431 itself
			if m.stats != nil {
				m.stats.IncGlobal(stats.TunnelsRefused) // nobody authenticated: no device row
			}
		}
	}
	if st == http.StateClosed || st == http.StateHijacked {
		m.pending.Delete(c)
	}
}

var (
	descRequests = prometheus.NewDesc("gatehouse_apptunnel_requests_total", "AppTunnel requests by kind (http: absolute-form, connect).", []string{"kind"}, nil)
	descRefusals = prometheus.NewDesc("gatehouse_apptunnel_refusals_total", "AppTunnel requests refused, by documented reason.", []string{"reason"}, nil)
	descOpen     = prometheus.NewDesc("gatehouse_apptunnel_open_tunnels", "CONNECT tunnels open now.", nil, nil)
	descBytes    = prometheus.NewDesc("gatehouse_apptunnel_bytes_total", "Bytes relayed in CONNECT tunnels (up: app to server).", []string{"direction"}, nil)
	descFirst    = prometheus.NewDesc("gatehouse_apptunnel_first_access_total", "Tunnel first accesses by outcome (uem, fail_open).", []string{"outcome"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descRefusals, descOpen, descBytes, descFirst} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	c := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	c(descRequests, m.HTTP.Load(), "http")
	c(descRequests, m.Connect.Load(), "connect")
	for _, r := range Reasons {
		c(descRefusals, m.Refusals(r), string(r))
	}
	ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(m.Open.Load()))
	c(descBytes, m.BytesUp.Load(), "up")
	c(descBytes, m.BytesDown.Load(), "down")
	c(descFirst, m.FirstAccess.Load()-m.FailOpen.Load(), "uem")
	c(descFirst, m.FailOpen.Load(), "fail_open")
}
