package upstream

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/testca"
)

// sniServer is a TLS ActiveSync stand-in on 127.0.0.1 that records the
// Server Name Indication and cipher suite of every handshake.
type sniServer struct {
	ln   net.Listener
	port string
	mu   sync.Mutex
	sni  []string
}

func newSNIServer(t *testing.T, cfg *tls.Config) *sniServer {
	t.Helper()
	s := &sniServer{}
	cfg = cfg.Clone()
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		s.mu.Lock()
		s.sni = append(s.sni, hello.ServerName)
		s.mu.Unlock()
		return nil, nil
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, tls.CipherSuiteName(r.TLS.CipherSuite))
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *sniServer) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sni...)
}

// routerTo builds a router whose one service lists host:port with
// Server TLS, using client as the outgoing TLS configuration.
func routerTo(t *testing.T, hostport string, client *tls.Config, sni bool) *Router {
	t.Helper()
	svc := service("default")
	svc.Servers, svc.ServerTLS = hostport, true
	svc.HealthCheck.Enabled = false
	return newRouter(t, asConfig(svc), defaultMgmt(), defaultTimeouts(), Options{TLSConfig: client, SNI: sni})
}

func TestTLS07_NoSNIByDefaultButTheCertificateIsStillVerified(t *testing.T) {
	ca := testca.New(t, "Backend CA", time.Now(), nil)
	srv := newSNIServer(t, &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "localhost")}})
	strict := &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}

	off := routerTo(t, "localhost:"+srv.port, strict, false)
	mustDo(t, off, easRequest("gw", "Sync", ""))
	if got := srv.names(); len(got) != 1 || got[0] != "" {
		t.Fatalf("SNI off: the server saw server names %q, want one empty", got)
	}

	on := routerTo(t, "localhost:"+srv.port, strict, true)
	mustDo(t, on, easRequest("gw", "Sync", ""))
	if got := srv.names(); len(got) != 2 || got[1] != "localhost" {
		t.Fatalf("SNI on: the server saw server names %q, want localhost second", got)
	}

	// Without SNI the host name is still verified (TLS-05) and so is the CA.
	other := testca.New(t, "Backend CA", time.Now(), nil)
	for name, tc := range map[string]struct {
		cfg  *tls.Config
		want string
	}{
		"untrusted CA": {&tls.Config{RootCAs: other.Pool()}, "certificate signed by unknown authority"},
		"wrong host":   {strict, "server name mismatch, certificate issued to: [localhost]"},
	} {
		host := "localhost"
		if name == "wrong host" {
			host = "127.0.0.1" // the certificate names localhost only
		}
		r := routerTo(t, host+":"+srv.port, tc.cfg, false)
		if _, _, err := do(t, r, easRequest("gw", "Sync", "")); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
	// Strict TLS off verifies nothing and still sends no SNI.
	lax := routerTo(t, "localhost:"+srv.port, &tls.Config{InsecureSkipVerify: true}, false) //nolint:gosec // the point of the test
	mustDo(t, lax, easRequest("gw", "Sync", ""))
	if got := srv.names(); got[len(got)-1] != "" {
		t.Fatalf("strict TLS off sent SNI %q", got[len(got)-1])
	}
}

func TestTLS02_OutgoingVersionAndCipherPolicy(t *testing.T) {
	ca := testca.New(t, "Backend CA", time.Now(), nil)
	cert := ca.Server(t, "localhost")
	old := newSNIServer(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
	base := func(c *tls.Config) *tls.Config { c.RootCAs = ca.Pool(); return c }

	// The gateway's minimum is above what the server speaks: refused.
	r := routerTo(t, "localhost:"+old.port, base(&tls.Config{MinVersion: tls.VersionTLS13}), false)
	if _, _, err := do(t, r, easRequest("gw", "Sync", "")); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("TLS 1.3 minimum against a TLS 1.2 server: %v", err)
	}
	// A custom cipher list the server shares: that suite is used.
	r = routerTo(t, "localhost:"+old.port, base(&tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}), false)
	if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" {
		t.Fatalf("negotiated %q", body)
	}
	// A custom cipher list the server does not share: refused.
	r = routerTo(t, "localhost:"+old.port, base(&tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}), false)
	if _, _, err := do(t, r, easRequest("gw", "Sync", "")); err == nil || !strings.Contains(err.Error(), "handshake failure") {
		t.Fatalf("no shared cipher suite: %v", err)
	}
}
