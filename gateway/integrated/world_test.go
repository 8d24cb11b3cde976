package integrated

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	fakeex "github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

const (
	testToken  = "integrated-gateway-token"
	testSecret = "integrated-notify-secret-0123456789"
	exSecret   = "exchange-mgmt-secret"
)

// clock is time.Now moved by an offset, shared by Exchange and the
// connector so that tests can jump a week.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) advance(d time.Duration) { c.off.Add(int64(d)) }

// world is a fake UEM, a fake Exchange and a connector between them.
type world struct {
	t    *testing.T
	clk  *clock
	uem  *uem.Server
	ex   *fakeex.Server
	conn *Connector
	ic   uemapi.IntegratedConfig
	cfg  Config
}

type option func(w *world)

func withSettings(fn func(ic *uemapi.IntegratedConfig)) option {
	return func(w *world) { fn(&w.ic) }
}

func withConfig(fn func(c *Config)) option { return func(w *world) { fn(&w.cfg) } }

func newWorld(t *testing.T, opts ...option) *world {
	t.Helper()
	w := &world{t: t, clk: &clock{}}
	ctx := context.Background()
	var err error
	users := []fakeex.User{{Name: "alice", Password: "pw-alice-1"}, {Name: "bob", Password: "pw-bob-1"}, {Name: "carol", Password: "pw-carol-1"}}
	w.ex, err = fakeex.New(fakeex.Config{Users: users, Domain: "corp.example", MessagesPerUser: -1, MgmtToken: exSecret, Now: w.clk.now, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ex.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.ex.Shutdown(context.Background()) })
	// The connector's notification endpoint, started before it exists.
	var handler atomic.Pointer[http.Handler]
	notify := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(rw, r)
			return
		}
		http.Error(rw, "not yet", http.StatusServiceUnavailable)
	}))
	notify.StartTLS()
	t.Cleanup(notify.Close)
	roots := x509.NewCertPool()
	roots.AddCert(notify.Certificate())
	seed := &uem.Seed{Users: []uem.User{
		{ID: "alice", UPN: "alice@corp.example", Email: "alice@corp.example", MailboxID: "mbx-alice"},
		{ID: "bob", UPN: "bob@corp.example", Email: "bob@corp.example", MailboxID: "mbx-bob"},
		{ID: "carol", UPN: "carol@corp.example", Email: "carol@corp.example", MailboxID: "mbx-carol"},
	}}
	w.uem, err = uem.New(uem.Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Seed: seed, Logger: slog.New(slog.DiscardHandler),
		Notify: uem.NotifyConfig{RootCAs: roots, BaseDelay: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.uem.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.uem.Shutdown(context.Background()) })
	host, port, _ := net.SplitHostPort(mustHost(w.ex.AdminURL()))
	p, _ := strconv.Atoi(port)
	w.ic = uemapi.IntegratedConfig{Server: host, Port: p, Secret: exSecret}
	w.cfg = Config{NotifySecret: []byte(testSecret), AdminToken: "ctl-token", BatchSize: 3, CallTimeout: 5 * time.Second,
		ExchangeHTTP: tlsClient(w.ex.CertPool()), Now: w.clk.now, Workers: 4}
	for _, o := range opts {
		o(w)
	}
	gc := uemapi.DefaultGatewayConfig()
	ic := w.ic
	gc.Integrated = &ic
	if _, err := w.uem.AddGateway(uem.GatewayEntry{ID: "int1", Host: "127.0.0.1", Port: 9090, Enabled: true, Token: testToken,
		NotifySecret: []byte(testSecret), NotificationURL: notify.URL + NotificationPath, Config: gc}); err != nil {
		t.Fatal(err)
	}
	w.cfg.UEM, err = uemapi.NewClient(w.uem.GatewayURL(), testToken, uemapi.WithHTTPClient(tlsClient(w.uem.CertPool())))
	if err != nil {
		t.Fatal(err)
	}
	w.conn, err = New(w.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // connections dialled by the workers and never used hold a server's Shutdown for 5 s
		w.cfg.UEM.CloseIdleConnections()
		w.cfg.ExchangeHTTP.CloseIdleConnections()
	})
	if err := w.conn.Start(ctx); err != nil {
		t.Fatal(err)
	}
	h := w.conn.Handler()
	handler.Store(&h)
	return w
}

func mustHost(u string) string {
	for i := len("https://"); i < len(u); i++ {
		if u[i] == '/' {
			return u[len("https://"):i]
		}
	}
	return u[len("https://"):]
}

func tlsClient(pool *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 16}}
}

// partner records a partnership in Exchange (a device that synced).
func (w *world) partner(user, device, typ string) {
	w.ex.Management().AddDevice(exmgmt.Device{User: user, DeviceID: device, DeviceType: typ, Model: typ + " X"})
}

func (w *world) sync(k Kind) error {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return w.conn.Sync(ctx, k)
}

func (w *world) mustSync(k Kind) {
	w.t.Helper()
	if err := w.sync(k); err != nil {
		w.t.Fatalf("%s sync: %v", k, err)
	}
}

func (w *world) device(user, dev string) exmgmt.Device {
	w.t.Helper()
	d, ok := w.ex.Management().Device(user, dev)
	if !ok {
		w.t.Fatalf("no device %s of %s in Exchange", dev, user)
	}
	return d
}

func (w *world) assoc(dev, user string) uem.Association {
	w.t.Helper()
	a, err := w.uem.FindAssociation(dev, user)
	if err != nil {
		w.t.Fatalf("association %s/%s: %v", dev, user, err)
	}
	return a
}

// eventually waits (gomega's Eventually, at most 10 s) for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(10*time.Second).WithPolling(10*time.Millisecond).Should(gomega.BeTrue(), what)
}
