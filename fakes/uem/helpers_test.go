package uem

import (
	"github.com/onsi/gomega"

	"context"
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

const testToken = "gw1-token-0123456789abcdef"

// world is a started fake UEM with one gateway entry and a client for it.
type world struct {
	srv    *Server
	client *uemapi.Client
	hc     *http.Client
	gw     GatewayEntry
}

func startUEM(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.GatewayAddr == "" {
		cfg.GatewayAddr = "127.0.0.1:0"
	}
	if cfg.AdminAddr == "" {
		cfg.AdminAddr = "127.0.0.1:0"
	}
	if cfg.Notify.BaseDelay == 0 {
		cfg.Notify.BaseDelay = 5 * time.Millisecond
		cfg.Notify.MaxDelay = 20 * time.Millisecond
		cfg.Notify.Timeout = 2 * time.Second
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func newWorld(t *testing.T, cfg Config) *world {
	t.Helper()
	srv := startUEM(t, cfg)
	gw, err := srv.AddGateway(GatewayEntry{ID: "gw1", Host: "127.0.0.1", Token: testToken, Enabled: true, NotificationURL: "https://127.0.0.1:1/unused"})
	if err != nil {
		t.Fatal(err)
	}
	hc := trustingClient(srv)
	c, err := uemapi.NewClient(srv.GatewayURL(), testToken, uemapi.WithHTTPClient(hc), uemapi.WithGatewayVersion("10.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	return &world{srv: srv, client: c, hc: hc, gw: gw}
}

func trustingClient(srv *Server) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: srv.CertPool(), MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// eventually waits with gomega until cond holds, naming what it waits for.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(10*time.Second).WithPolling(5*time.Millisecond).
		Should(gomega.BeTrue(), "waiting for %s", what)
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func mustCode(t *testing.T, err error, code uemapi.Code) {
	t.Helper()
	if !uemapi.IsCode(err, code) {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}
