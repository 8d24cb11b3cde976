package gateway_test

// AppTunnel end to end (issue 21): the fake UEM decides, issues the app's
// identity certificate and notifies; the gateway's tunnel listener relays
// to a header-echo backend.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/apptunnel"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func tunnelWorld(t *testing.T) (*world, *httptest.Server) {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(rw).Encode(r.Header)
	}))
	t.Cleanup(backend.Close)
	w := newWorld(t, func(w *world) {
		w.gwBoot = func(c *gateway.Config) { c.AppTunnelListen = "127.0.0.1:0" }
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: w.uem.CA().CertPEM}
			gc.AppTunnel = uemapi.AppTunnelConfig{Enabled: true, ContextHeaders: true, Services: []uemapi.AppTunnelService{
				{Name: uemapi.ServiceAny, ServerAuth: uemapi.AuthPassThrough}}}
		}
	})
	return w, backend
}

// tunnelRoundTrip sends one raw request (head and body) on a new
// tunnel connection as the certificate's device and returns the
// response with its body read.
func tunnelRoundTrip(t *testing.T, w *world, cert *tls.Certificate, raw string) (*http.Response, []byte) {
	t.Helper()
	c, err := tls.Dial("tcp", strings.TrimPrefix(w.gw.AppTunnelURL(), "https://"), &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{*cert}}) //nolint:gosec // test gateway certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// tunnelGet sends one absolute-form GET through the gateway as app.
func tunnelGet(t *testing.T, w *world, cert *tls.Certificate, app, target string) (int, string, http.Header) {
	t.Helper()
	host := strings.TrimPrefix(target, "http://")
	resp, body := tunnelRoundTrip(t, w, cert, "GET "+target+"/ HTTP/1.1\r\nHost: "+host+"\r\n"+apptunnel.HeaderAppID+": "+app+"\r\nConnection: close\r\n\r\n")
	var echo http.Header
	if resp.StatusCode == http.StatusOK {
		_ = json.Unmarshal(body, &echo)
	}
	return resp.StatusCode, resp.Header.Get(apptunnel.RefusalHeader), echo
}

func TestFLOW06AppTunnelWithTheFakeUEM(t *testing.T) {
	g := gomega.NewWithT(t)
	w, backend := tunnelWorld(t)
	ctx := context.Background()
	cert, _ := uemCert(t, w, uem.CertRequest{})
	code, why, echo := tunnelGet(t, w, cert, "com.example.browser", backend.URL)
	if code != http.StatusOK || echo.Get(apptunnel.CtxDeviceUUID) != "dev-alice" || echo.Get(apptunnel.CtxUserUPN) == "" {
		t.Fatalf("first access: %d %q %v", code, why, echo)
	}
	if m, err := w.adm.Metrics(ctx); err != nil {
		t.Fatal(err)
	} else if _, ok := m["gatehouse_apptunnel_open_tunnels"]; !ok {
		t.Fatal("the admin API's /metrics has no AppTunnel series")
	}
	adm := uem.NewAdminClient(w.uem.AdminURL(), w.uem.AdminToken(), w.hc)
	tunnels, err := adm.AppTunnels(ctx)
	if err != nil || len(tunnels) != 1 || tunnels[0].State != uemapi.TunnelAllow || tunnels[0].Version != uemapi.TunnelV1 {
		t.Fatalf("UEM AppTunnels view (ATM-01): %+v %v", tunnels, err)
	}
	// ATM-02: Block in the UEM reaches the gateway by notification.
	if _, err := adm.ActOnTunnel(ctx, tunnels[0].ID, uem.TunnelAction{Action: "block"}); err != nil {
		t.Fatal(err)
	}
	g.Eventually(func() string {
		_, why, _ := tunnelGet(t, w, cert, "com.example.browser", backend.URL)
		return why
	}).WithTimeout(10 * time.Second).Should(gomega.Equal(string(apptunnel.ReasonTunnelBlocked)))
	// ATM-03: Remove forgets it; the next use is a first access again.
	if _, err := adm.ActOnTunnel(ctx, tunnels[0].ID, uem.TunnelAction{Action: "remove"}); err != nil {
		t.Fatal(err)
	}
	g.Eventually(func() int {
		code, _, _ := tunnelGet(t, w, cert, "com.example.browser", backend.URL)
		return code
	}).WithTimeout(10 * time.Second).Should(gomega.Equal(http.StatusOK))
	// ATM-04: the device-level block blocks every app of the device.
	if _, err := adm.SetAppTunnelsBlocked(ctx, "dev-alice", true, "lost"); err != nil {
		t.Fatal(err)
	}
	g.Eventually(func() string {
		_, why, _ := tunnelGet(t, w, cert, "com.example.browser", backend.URL)
		return why
	}).WithTimeout(10 * time.Second).Should(gomega.Equal(string(apptunnel.ReasonDeviceBlocked)))
	if rows, err := w.adm.Dump(ctx, "app-tunnel"); err != nil || len(rows) != 1 || rows[0].Application != "com.example.browser" || rows[0].Version != "V1" {
		t.Fatalf("ctl dump app-tunnel: %+v %v", rows, err)
	}
}

func TestATM04BlockedTunnelStaysBlockedAcrossARestartWithTheUEMDown(t *testing.T) {
	w, backend := tunnelWorld(t)
	ctx := context.Background()
	cert, _ := uemCert(t, w, uem.CertRequest{})
	adm := uem.NewAdminClient(w.uem.AdminURL(), w.uem.AdminToken(), w.hc)
	if _, err := adm.SetAppTunnelsBlocked(ctx, "dev-alice", true, "lost"); err != nil {
		t.Fatal(err)
	}
	if _, why, _ := tunnelGet(t, w, cert, "com.app", backend.URL); why != string(apptunnel.ReasonDeviceBlocked) {
		t.Fatalf("first access: %q", why)
	}
	w.stopGateway()
	w.setFaults(uem.Faults{Down: true})
	w.startGateway(false)
	if _, why, _ := tunnelGet(t, w, cert, "com.app", backend.URL); why != string(apptunnel.ReasonDeviceBlocked) {
		t.Fatalf("after restart with the UEM down: %q (a blocked tunnel must stay blocked)", why)
	}
}
