package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/loopback"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// exchange is a stand-in ActiveSync server on 127.0.0.1: it counts the
// requests it gets and answers with its name, or with handle if set.
type exchange struct {
	name   string
	srv    *httptest.Server
	hits   atomic.Int64
	handle atomic.Pointer[http.HandlerFunc]
}

func newExchange(t testing.TB, name string, useTLS bool) *exchange {
	t.Helper()
	x := &exchange{name: name}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := x.handle.Load(); f != nil {
			(*f)(w, r)
			return
		}
		if r.Method == http.MethodOptions {
			if r.Header.Get("User-Agent") == "gatehouse-health-check" {
				w.WriteHeader(http.StatusUnauthorized) // no credentials: Exchange says 401
				return
			}
			x.hits.Add(1)
			w.Header().Set("MS-ASProtocolVersions", "2.5,12.0,12.1,14.0,14.1,16.0,16.1")
			w.Header().Set("MS-ASProtocolCommands", "Sync,FolderSync,Ping")
			w.Header().Set("MS-Server-ActiveSync", "15.1")
			return
		}
		x.hits.Add(1)
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, name)
	})
	// A port below the ephemeral range: kill leaves it free for revive,
	// and no parallel package's server or connection takes it meanwhile.
	addr, err := loopback.Port()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	x.srv = httptest.NewUnstartedServer(h)
	x.srv.Listener.Close()
	x.srv.Listener = ln
	if useTLS {
		x.srv.StartTLS()
	} else {
		x.srv.Start()
	}
	t.Cleanup(x.kill)
	return x
}

func (x *exchange) setHandler(f http.HandlerFunc) { x.handle.Store(&f) }

// addr is the server's host:port, as a Servers List entry.
func (x *exchange) addr() string {
	return strings.TrimPrefix(strings.TrimPrefix(x.srv.URL, "https://"), "http://")
}

// kill drops every connection and stops listening: the server is gone.
func (x *exchange) kill() {
	x.srv.CloseClientConnections()
	x.srv.Close()
}

// revive listens again on the same address.
func (x *exchange) revive(t testing.TB) {
	t.Helper()
	var l net.Listener
	var err error
	for range 50 {
		if l, err = net.Listen("tcp", x.addr()); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("revive %s: %v", x.name, err)
	}
	h := x.srv.Config.Handler
	x.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	x.srv.Start()
	t.Cleanup(x.kill)
}

// clock is a settable clock for the health accounting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// asConfig is an ActiveSync configuration with the seeds' defaults and
// the given services; the first is renamed "default".
func asConfig(services ...uemapi.ActiveSyncService) uemapi.ActiveSyncConfig {
	c := uemapi.DefaultGatewayConfig().ActiveSync
	c.Services = services
	return c
}

func service(name string, servers ...*exchange) uemapi.ActiveSyncService {
	s := uemapi.DefaultActiveSyncService("")
	s.Name = name
	var list []string
	for _, x := range servers {
		list = append(list, x.addr())
		s.ServerTLS = strings.HasPrefix(x.srv.URL, "https")
	}
	s.Servers = strings.Join(list, ";")
	return s
}

func defaultMgmt() uemapi.ServerManagement { return uemapi.DefaultGatewayConfig().Servers }

func defaultTimeouts() uemapi.Timeouts { return uemapi.DefaultGatewayConfig().Timeouts }

// newRouter builds a Router on a test clock, trusting the TLS servers.
func newRouter(t testing.TB, cfg uemapi.ActiveSyncConfig, mgmt uemapi.ServerManagement, to uemapi.Timeouts, opts Options, servers ...*exchange) *Router {
	t.Helper()
	if opts.TLSConfig == nil {
		pool := x509.NewCertPool()
		for _, x := range servers {
			if x.srv.Certificate() != nil {
				pool.AddCert(x.srv.Certificate())
			}
		}
		opts.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	r, err := New(cfg, mgmt, to, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(r.CloseIdleConnections)
	return r
}

// easRequest is a device's ActiveSync POST to the gateway host.
func easRequest(host, cmd, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://"+host+"/Microsoft-Server-ActiveSync?Cmd="+cmd+"&User=alice&DeviceId=DEV1&DeviceType=iPhone", strings.NewReader(body))
	r.Header.Set("MS-ASProtocolVersion", "14.1")
	r.RequestURI = ""
	return r
}

// do sends a request through the router and returns the body, or the error.
func do(t testing.TB, rt http.RoundTripper, req *http.Request) (*http.Response, string, error) {
	t.Helper()
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// mustDo is do that fails the test on an error.
func mustDo(t testing.TB, rt http.RoundTripper, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, body, err := do(t, rt, req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// hangingDialer never connects to the addresses in hang: it waits for the
// dial's context, like a server behind a black-holing firewall.
func hangingDialer(hang ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		for _, h := range hang {
			if h == addr {
				<-ctx.Done()
				return nil, ctx.Err()
			}
		}
		return d.DialContext(ctx, network, addr)
	}
}

func serverStatus(t testing.TB, r *Router, service, addr string) ServerStatus {
	t.Helper()
	for _, s := range r.Status() {
		if s.Name != service {
			continue
		}
		for _, srv := range s.Servers {
			if srv.Address == addr {
				return srv
			}
		}
	}
	t.Fatalf("no server %s in service %s", addr, service)
	return ServerStatus{}
}
