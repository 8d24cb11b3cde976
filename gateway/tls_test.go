package gateway_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// TLS-02 towards devices: with a Custom cipher list a TLS 1.2 device must
// offer one of its suites; TLS 1.3's suites are not configurable in Go.
func TestTLS02_DeviceSideCipherSuites(t *testing.T) {
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.TLS = uemapi.TLSSettings{IncomingCipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}}
		}
	})
	addr := strings.TrimPrefix(w.gw.DeviceURL(), "https://")
	dial := func(suite uint16) (uint16, error) {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}}) //nolint:gosec // test gateway certificate
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.ConnectionState().CipherSuite, nil
	}
	if got, err := dial(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256); err != nil || got != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Fatalf("the selected suite: %x %v", got, err)
	}
	if _, err := dial(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384); err == nil {
		t.Fatal("a device offering only a suite outside the Custom list was accepted")
	}
}

// sniRecorder is an ActiveSync server stand-in over TLS that records each
// handshake's server name and answers every request 200.
type sniRecorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	sni []string
}

func newSNIRecorder(t *testing.T, maxVersion uint16) *sniRecorder {
	r := &sniRecorder{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		w.Header().Set("MS-ASProtocolVersions", "14.1")
	}))
	r.srv.TLS = &tls.Config{MaxVersion: maxVersion, GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		r.mu.Lock()
		r.sni = append(r.sni, h.ServerName)
		r.mu.Unlock()
		return nil, nil
	}}
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	return r
}

// hostport is the server as a server list names it: localhost, so that
// SNI could be sent (Go never sends it for an IP address).
func (r *sniRecorder) hostport() string {
	_, port, _ := net.SplitHostPort(r.srv.Listener.Addr().String())
	return "localhost:" + port
}

func (r *sniRecorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sni...)
}

// TLS-07 and the Outgoing SSL Configuration through the UEM: no SNI by
// default, SNI when switched on, and the outgoing minimum version.
func TestTLS07_OutgoingSNIAndVersionFromTheUEM(t *testing.T) {
	rec := newSNIRecorder(t, 0)
	old := newSNIRecorder(t, tls.VersionTLS12)
	config := func(server string, ts uemapi.TLSSettings) uemapi.GatewayConfig {
		gc := uemapi.DefaultGatewayConfig()
		svc := uemapi.DefaultActiveSyncService(server)
		svc.ServerTLS, svc.HealthCheck.Enabled = true, false
		gc.ActiveSync.Services = []uemapi.ActiveSyncService{svc}
		gc.TLS = ts
		return gc
	}
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) { *gc = config(rec.hostport(), uemapi.TLSSettings{}) }
	})
	if code, _ := w.device("SNIPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK {
		t.Fatalf("through the recorder: HTTP %d", code)
	}
	if got := rec.names(); len(got) == 0 || got[0] != "" {
		t.Fatalf("SNI off by default, but the server saw %q", got)
	}
	w.uemAdmin(http.MethodPut, "/gateways/gw1/config", config(rec.hostport(), uemapi.TLSSettings{OutgoingSNI: true}), nil)
	gomega.NewWithT(t).Eventually(func() bool {
		w.device("SNIPHONE", "alice", eas.CmdFolderSync)
		got := rec.names()
		return got[len(got)-1] == "localhost"
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "SNI switched on")
	// The TLS 1.2 server is fine with the default minimum (1.2) ...
	w.uemAdmin(http.MethodPut, "/gateways/gw1/config", config(old.hostport(), uemapi.TLSSettings{}), nil)
	gomega.NewWithT(t).Eventually(func() bool {
		code, _ := w.device("SNIPHONE", "alice", eas.CmdFolderSync)
		return code == http.StatusOK && len(old.names()) > 0
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "the TLS 1.2 server in use")
	// ... and refused with the outgoing minimum at 1.3.
	w.uemAdmin(http.MethodPut, "/gateways/gw1/config", config(old.hostport(), uemapi.TLSSettings{OutgoingMinVersion: "1.3"}), nil)
	gomega.NewWithT(t).Eventually(func() bool {
		code, _ := w.device("SNIPHONE", "alice", eas.CmdFolderSync)
		return code == http.StatusBadGateway
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "TLS 1.3 required towards a TLS 1.2 server")
}

// The notification and admin listeners speak HTTP/1.1 only, as the device
// listener does: an HTTP/2 connection the UEM keeps open for its
// notifications held every graceful stop for the HTTP/2 GOAWAY timeout.
func TestControlListenersNegotiateHTTP11(t *testing.T) {
	w := newWorld(t)
	for name, u := range map[string]string{"notify": w.gw.NotifyURL(), "admin": w.gw.AdminURL(), "device": w.gw.DeviceURL()} {
		addr := strings.TrimPrefix(u, "https://")
		addr, _, _ = strings.Cut(addr, "/")
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}}) //nolint:gosec // test gateway certificate
		if err != nil {
			t.Fatalf("%s listener: %v", name, err)
		}
		if got := c.ConnectionState().NegotiatedProtocol; got != "http/1.1" {
			t.Errorf("%s listener negotiated %q, want http/1.1", name, got)
		}
		c.Close()
	}
}
