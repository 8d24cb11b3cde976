package apptunnel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/internal/testca"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// stubUEM decides tunnels from a table; unreachable fails every call as
// a network error would.
type stubUEM struct {
	mu          sync.Mutex
	state       map[string]uemapi.TunnelState // app id -> state; default allow
	reason      map[string]string
	unreachable bool
	reports     int
	list        []uemapi.AppTunnel
}

var errDown = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}

func (u *stubUEM) ReportAppTunnel(_ context.Context, r uemapi.AppTunnelReport) (*uemapi.AppTunnel, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.unreachable {
		return nil, errDown
	}
	u.reports++
	st := uemapi.TunnelAllow
	if s, ok := u.state[r.AppID]; ok {
		st = s
	}
	return &uemapi.AppTunnel{AppID: r.AppID, User: r.User, DeviceUUID: r.DeviceUUID, State: st, Reason: u.reason[r.AppID], Version: r.Version}, nil
}

func (u *stubUEM) AppTunnels(context.Context, string, int) (*uemapi.AppTunnelPage, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.unreachable {
		return nil, errDown
	}
	return &uemapi.AppTunnelPage{Items: append([]uemapi.AppTunnel(nil), u.list...)}, nil
}

func (u *stubUEM) down(d bool) {
	u.mu.Lock()
	u.unreachable = d
	u.mu.Unlock()
}

func (u *stubUEM) reportCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reports
}

func (u *stubUEM) setList(l []uemapi.AppTunnel) {
	u.mu.Lock()
	u.list = l
	u.mu.Unlock()
}

func (u *stubUEM) set(app string, st uemapi.TunnelState, why string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.state == nil {
		u.state, u.reason = map[string]uemapi.TunnelState{}, map[string]string{}
	}
	u.state[app], u.reason[app] = st, why
}

const testUUID = "62b6ae69-9ca8-4176-85dd-11a7ecaee130"

// world is one tunnel listener with a CA, an app certificate, a stub UEM
// and a header-echo backend.
type world struct {
	t        *testing.T
	ca       *testca.CA
	appCert  tls.Certificate
	uem      *stubUEM
	cache    *devicecache.Cache
	srv      *Server
	addr     string
	backend  *httptest.Server // echoes the request headers as JSON
	auth     *deviceauth.Authenticator
	audit    *syncBuffer                  // the audit log's output
	idle     time.Duration                // the listener's idle timeout (its default when zero)
	kerberos Negotiator                   // Kerberos delegation; nil for none
	acceptor Acceptor                     // the gateway's keys for apps' tickets; nil for none
	stats    *stats.Registry              // the statistics counters (tunnels-*, tunnel-bytes-*)
	trust    string                       // device CA PEM to trust instead of w.ca's (bench children)
	listen   func() (net.Listener, error) // the tunnel listener; 127.0.0.1:0 when nil
}

// syncBuffer is a bytes.Buffer safe for the audit logger and the test.
type syncBuffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	log *audit.Logger // flushed before each read: the audit writes in batches
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	_ = s.log.Flush()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newWorld(t *testing.T, opts ...func(*world)) *world {
	t.Helper()
	w := &world{t: t, uem: &stubUEM{}, cache: devicecache.New(nil), audit: &syncBuffer{}, stats: stats.NewRegistry()}
	for _, o := range opts {
		o(w)
	}
	w.ca = testca.New(t, "device CA", time.Now(), nil)
	w.appCert = w.ca.Sign(t, &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}, EmailAddresses: []string{"alice@corp.example"},
		URIs: []*url.URL{{Scheme: "urn", Opaque: "uuid:" + testUUID}}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	var err error
	trust := w.ca.PEM()
	if w.trust != "" {
		trust = w.trust
	}
	w.auth, err = deviceauth.New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: trust}, deviceauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.backend = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h := map[string]string{"Host": r.Host, "Path": r.URL.Path}
		for k := range r.Header {
			h[k] = r.Header.Get(k)
		}
		_ = json.NewEncoder(rw).Encode(h)
	}))
	t.Cleanup(w.backend.Close)
	gw := testca.New(t, "gateway CA", time.Now(), nil).Server(t, "gateway.test")
	w.audit.log = audit.New(w.audit, "gatehouse-test", nil)
	t.Cleanup(func() { _ = w.audit.log.Close() })
	w.srv, err = New(Config{Tunnels: &Tunnels{UEM: w.uem, Cache: w.cache, Log: slog.New(slog.DiscardHandler)},
		ServerTLS: &tls.Config{Certificates: []tls.Certificate{gw}}, Log: slog.New(slog.DiscardHandler), PeekTimeout: time.Second,
		Audit: w.audit.log, IdleTimeout: w.idle, Kerberos: func() Negotiator { return w.kerberos },
		Acceptor: func() Acceptor { return w.acceptor }, Stats: w.stats})
	if err != nil {
		t.Fatal(err)
	}
	if w.listen == nil {
		w.listen = func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
	}
	ln, err := w.listen()
	if err != nil {
		t.Fatal(err)
	}
	w.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- w.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.srv.Shutdown(ctx)
		<-done
	})
	w.configure(func(*uemapi.AppTunnelConfig, *uemapi.TrafficControl) {})
	return w
}

// configure sets AppTunnel on with <ANY>, <TCP_ANY> and a custom "Intranet"
// service on the backend, then lets fn change it.
func (w *world) configure(fn func(*uemapi.AppTunnelConfig, *uemapi.TrafficControl)) {
	at := uemapi.AppTunnelConfig{Enabled: true, Services: []uemapi.AppTunnelService{
		{Name: "Intranet", Servers: w.backendHostPort(), ServerAuth: uemapi.AuthPassThrough},
		{Name: uemapi.ServiceAny, ServerAuth: uemapi.AuthPassThrough},
		{Name: uemapi.ServiceTCPAny, ServerAuth: uemapi.AuthPassThrough},
	}}
	tc := uemapi.TrafficControl{Mode: uemapi.TrafficNone}
	fn(&at, &tc)
	w.srv.SetSettings(Settings{AppTunnel: at, Traffic: tc, Auth: w.auth})
}

func (w *world) backendHostPort() string { return strings.TrimPrefix(w.backend.URL, "http://") }

// dial opens a TLS connection to the tunnel listener, with the app's
// certificate unless noCert.
func (w *world) dial(noCert bool) *tls.Conn {
	w.t.Helper()
	cfg := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // test listener's own certificate
	if !noCert {
		cfg.Certificates = []tls.Certificate{w.appCert}
	}
	c, err := tls.Dial("tcp", w.addr, cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close() })
	return c
}

// send writes one raw request head and returns the response.
func (w *world) send(c net.Conn, head string) (*http.Response, *bufio.Reader) {
	w.t.Helper()
	if _, err := io.WriteString(c, head); err != nil {
		w.t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		w.t.Fatalf("reading the answer to %q: %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	return resp, br
}

// get sends an absolute-form GET through the tunnel and returns the
// status, the refusal reason and the backend's echo of the headers.
func (w *world) get(target string, hdr map[string]string) (int, string, map[string]string) {
	w.t.Helper()
	var b strings.Builder
	b.WriteString("GET " + target + " HTTP/1.1\r\nHost: " + hostOf(target) + "\r\nConnection: close\r\n")
	for k, v := range hdr {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("\r\n")
	resp, _ := w.send(w.dial(false), b.String())
	defer resp.Body.Close()
	echo := map[string]string{}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&echo); err != nil {
			w.t.Fatal(err)
		}
	}
	return resp.StatusCode, resp.Header.Get(RefusalHeader), echo
}

func hostOf(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	return u.Host
}

func app(id string) map[string]string { return map[string]string{HeaderAppID: id} }

const time1h = time.Hour

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }
