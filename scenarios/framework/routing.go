package framework

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/faults"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Helpers of the routing specs (ASC, RDR, TLS, EXC): ActiveSync servers
// the suite runs itself, as many as a spec wants, each recording what
// reached it and under the fault layer of the fakes (fakes/faults), and
// ActiveSync services pointed at them through the UEM.

// Tap is one ActiveSync server of a spec: a TLS listener on 127.0.0.1
// that records every request that reaches it and relays it to a fake
// Exchange. Several taps in front of one Exchange are the servers of one
// Exchange cluster (a device provisioned through one is known to all),
// so that scheduling and failover keep a device's lifecycle working.
// Faults (Tap.Faults) act between the recording and the relay, so a
// request the fault resets or holds is still recorded; a down fault
// refuses connections and records nothing.
type Tap struct {
	name    string
	addr    string
	ln      *faults.Listener
	srv     *http.Server
	in      *faults.Injector
	certPEM string

	mu   sync.Mutex
	reqs []TapRequest
	conn atomic.Int64 // TLS handshakes completed
}

// TapRequest is one request as a Tap saw it.
type TapRequest struct {
	At       time.Time
	Method   string
	Path     string
	Host     string
	SNI      string // the ClientHello's server name, "" when none was sent
	TLS      uint16 // negotiated TLS version
	Auth     bool   // it carried an Authorization header
	Cmd      string
	DeviceID string
	User     string
}

// HealthCheck reports whether the request looks like a background
// health check: an OPTIONS without credentials.
func (r TapRequest) HealthCheck() bool { return r.Method == http.MethodOptions && !r.Auth }

// TapOption changes a Tap.
type TapOption func(*tapConfig)

type tapConfig struct {
	names      []string // certificate DNS names
	ips        bool     // certificate covers 127.0.0.1
	maxVersion uint16
	backend    string
}

// TapCertNames issues the tap's certificate to these DNS names only (no
// IP address): a server whose certificate does not cover the name the
// gateway dials (TLS-05).
func TapCertNames(names ...string) TapOption {
	return func(c *tapConfig) { c.names, c.ips = names, false }
}

// TapMaxTLS caps the TLS version the tap speaks.
func TapMaxTLS(v uint16) TapOption { return func(c *tapConfig) { c.maxVersion = v } }

// TapBackend relays to this base URL (scheme and host of a fake
// Exchange) instead of the world's first extra Exchange.
func TapBackend(baseURL string) TapOption { return func(c *tapConfig) { c.backend = baseURL } }

// SkipUnlessOwnServers skips the spec where the gateway under test
// cannot reach servers this process runs: with remote fakes it runs
// elsewhere (a container), and 127.0.0.1 is not ours.
func SkipUnlessOwnServers() {
	if RemoteFakes() {
		ginkgo.Skip("needs ActiveSync servers run by the suite on 127.0.0.1, which a gateway beside remote fakes cannot reach")
	}
}

// NewTap starts a Tap in front of the world's first extra Exchange (or
// TapBackend's) and stops it after the spec. Specs using it need
// WithExtraExchanges(1) and run wherever the suite runs the fakes.
func (f *Framework) NewTap(name string, opts ...TapOption) *Tap {
	SkipUnlessOwnServers()
	c := tapConfig{names: []string{"localhost"}, ips: true}
	for _, o := range opts {
		o(&c)
	}
	if c.backend == "" {
		gomega.Expect(f.Lab).NotTo(gomega.BeNil(), "taps relay to the world's Exchange servers")
		gomega.Expect(f.Lab.Extra).NotTo(gomega.BeEmpty(), "declare the Describe with WithExtraExchanges(1)")
		c.backend = f.Lab.Extra[0].URL()
	}
	cert, certPEM, err := newServerCert(name, c.names, c.ips)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "tap certificate")
	backend, err := url.Parse(c.backend)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())

	t := &Tap{name: name, in: faults.New(uint64(deviceSeq.Add(1))), certPEM: certPEM}
	t.ln, err = t.in.Listen(context.Background(), "tcp", "127.0.0.1:0")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	t.addr = t.ln.Addr().String()
	relay := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(backend)
			pr.Out.Host = backend.Host
		},
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the fake Exchange's throwaway certificate
			DisableCompression:  true,
			MaxIdleConnsPerHost: 16,
		},
		ErrorLog: nil,
	}
	tcfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: c.maxVersion,
		NextProtos: []string{"http/1.1"}}
	tcfg.VerifyConnection = func(tls.ConnectionState) error { t.conn.Add(1); return nil }
	t.srv = &http.Server{Handler: t.record(t.in.Middleware(relay)), TLSConfig: tcfg, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = t.srv.ServeTLS(t.ln, "", "") }()
	ginkgo.DeferCleanup(t.close)
	return t
}

func (t *Tap) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := TapRequest{At: time.Now(), Method: r.Method, Path: r.URL.Path, Host: r.Host, Auth: r.Header.Get("Authorization") != ""}
		if r.TLS != nil {
			rec.SNI, rec.TLS = r.TLS.ServerName, r.TLS.Version
		}
		if q, err := eas.ParseQuery(r.URL.RawQuery); err == nil {
			rec.Cmd, rec.DeviceID, rec.User = string(q.Cmd), q.DeviceID, q.User
		}
		t.mu.Lock()
		t.reqs = append(t.reqs, rec)
		t.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (t *Tap) close(ctx context.Context) {
	t.in.Stop() // ends held requests first
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = t.srv.Shutdown(sctx)
	_ = t.ln.Close()
}

// Addr is the tap's host:port (127.0.0.1).
func (t *Tap) Addr() string { return t.addr }

// LocalhostAddr is the tap as localhost:port, a host name (SNI is sent
// for host names only).
func (t *Tap) LocalhostAddr() string {
	return "localhost:" + t.addr[strings.LastIndexByte(t.addr, ':')+1:]
}

// EASURL is the tap's ActiveSync URL (a 451 location).
func (t *Tap) EASURL() string { return "https://" + t.addr + "/Microsoft-Server-ActiveSync" }

// CertPEM is the tap's self-signed certificate, PEM (a custom trust
// store entry).
func (t *Tap) CertPEM() string { return t.certPEM }

// Faults is the tap's fault injector (fakes/faults): Set, Add, Clear,
// Counters.
func (t *Tap) Faults() *faults.Injector { return t.in }

// SetFaults replaces the tap's faults, failing the spec on error.
func (t *Tap) SetFaults(specs ...faults.Spec) {
	gomega.Expect(t.in.Set(specs...)).To(gomega.Succeed(), "faults of %s", t.name)
}

// Requests returns what reached the tap, oldest first.
func (t *Tap) Requests() []TapRequest {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.reqs)
}

// DeviceRequests counts the commands of device id that reached the tap.
func (t *Tap) DeviceRequests(id string) int {
	n := 0
	for _, r := range t.Requests() {
		if r.DeviceID == id {
			n++
		}
	}
	return n
}

// CountOf is DeviceRequests as a function, for Eventually and Consistently.
func (t *Tap) CountOf(id string) func() int { return func() int { return t.DeviceRequests(id) } }

// HealthChecks counts the health checks that reached the tap.
func (t *Tap) HealthChecks() int {
	n := 0
	for _, r := range t.Requests() {
		if r.HealthCheck() {
			n++
		}
	}
	return n
}

// Handshakes counts the TLS handshakes the tap completed.
func (t *Tap) Handshakes() int64 { return t.conn.Load() }

var serviceSeq atomic.Int64

// ServiceName is a fresh ActiveSync service name (and Host header) no
// other spec of this run uses.
func (f *Framework) ServiceName(prefix string) string {
	return fmt.Sprintf("%s-%s-%d.gatehouse.test", prefix, strings.ToLower(runNonce), serviceSeq.Add(1))
}

// ServersList joins taps into a Servers List ("a;b"), 127.0.0.1:port each.
func ServersList(taps ...*Tap) string {
	out := make([]string, len(taps))
	for i, t := range taps {
		out[i] = t.Addr()
	}
	return strings.Join(out, ";")
}

// AddService adds an ActiveSync service named name with Server TLS on
// the Servers List servers (health check off unless edit turns it on) at
// the UEM, applies edit to the whole configuration and the new service,
// waits until the gateway took it, and puts the old configuration back
// after the spec.
func (f *Framework) AddService(name, servers string, edit func(c *uemapi.GatewayConfig, s *uemapi.ActiveSyncService)) {
	f.EditGatewayConfig(func(c *uemapi.GatewayConfig) {
		s := uemapi.DefaultActiveSyncService(servers)
		s.Name, s.ServerTLS = name, true
		s.HealthCheck.Enabled = false
		if edit != nil {
			edit(c, &s)
		}
		c.ActiveSync.Services = append(c.ActiveSync.Services, s)
	})
}

// DialDevice opens a TLS connection to the gateway's device listener
// as a device would, trusting any certificate; it is closed after the
// spec.
func (f *Framework) DialDevice() *tls.Conn {
	u, err := url.Parse(f.DeviceURL())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", u.Host,
		&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec // the gateway's throwaway certificate
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "connecting to the gateway")
	ginkgo.DeferCleanup(func() { _ = c.Close() })
	return c
}

// Hangup reads c until the peer closes it or an error ends the read, and
// then delivers what the peer sent; for Eventually(...).Should(Receive()).
func Hangup(c net.Conn) <-chan string {
	out := make(chan string, 1)
	go func() {
		var got []byte
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil || len(got) > 1<<20 {
				out <- string(got)
				return
			}
		}
	}()
	return out
}

// Feature labels of the routing, TLS and gateway-entry specs.
const (
	FeatureTLS   = "tls"
	FeatureEntry = "gateway-entry"
)
