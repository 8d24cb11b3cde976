package apptunnel

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// TestBadInputRefusedAndCounted: each bad request gets its documented
// status and reason, is counted, and the listener still serves.
func TestBadInputRefusedAndCounted(t *testing.T) {
	w := newWorld(t)
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) {
		at.Services[1].HostWildcards = "*.corp.example"
		at.Services = append(at.Services, uemapi.AppTunnelService{Name: uemapi.ServiceIPAny, ServerAuth: uemapi.AuthPassThrough})
	})
	hp := w.backendHostPort()
	host, _, _ := net.SplitHostPort(hp)
	cases := []struct {
		name, head string
		noCert     bool
		status     int
		reason     Reason
	}{
		{"origin-form", "GET /x HTTP/1.1\r\nHost: a\r\nX-Gatehouse-App-Id: com.a\r\n\r\n", false, 400, ReasonMalformed},
		{"bad CONNECT authority", "CONNECT nohostport HTTP/1.1\r\nHost: nohostport\r\nX-Gatehouse-App-Id: com.a\r\n\r\n", false, 400, ReasonMalformed},
		{"bad version", "GET http://" + hp + "/ HTTP/1.1\r\nHost: " + hp + "\r\nX-Gatehouse-App-Id: com.a\r\nX-Gatehouse-Tunnel-Version: V9\r\n\r\n", false, 400, ReasonMalformed},
		{"no app id", "GET http://" + hp + "/ HTTP/1.1\r\nHost: " + hp + "\r\n\r\n", false, 400, ReasonAppIDMissing},
		{"no certificate", "GET http://" + hp + "/ HTTP/1.1\r\nHost: " + hp + "\r\nX-Gatehouse-App-Id: com.a\r\n\r\n", true, 407, ReasonNoCertificate},
		{"unknown service", "GET http://" + hp + "/ HTTP/1.1\r\nHost: " + hp + "\r\nX-Gatehouse-App-Id: com.a\r\nX-Gatehouse-Tunnel-Service: Nope\r\n\r\n", false, 403, ReasonUnknownService},
		{"ATS-04 IP_ANY out of scope", "CONNECT " + hp + " HTTP/1.1\r\nHost: " + hp + "\r\nX-Gatehouse-App-Id: com.a\r\nX-Gatehouse-Tunnel-Service: <IP_ANY>\r\n\r\n", false, 403, ReasonIPTunnel},
		{"ATS-06 not in server list", "CONNECT other.example:80 HTTP/1.1\r\nHost: other.example:80\r\nX-Gatehouse-App-Id: com.a\r\nX-Gatehouse-Tunnel-Service: Intranet\r\n\r\n", false, 403, ReasonNotInServerList},
		{"ATS-06 CONNECT to a port not in the service", "CONNECT " + host + ":1 HTTP/1.1\r\nHost: " + host + ":1\r\nX-Gatehouse-App-Id: com.a\r\nX-Gatehouse-Tunnel-Service: Intranet\r\n\r\n", false, 403, ReasonPortNotAllowed},
		{"ATS-06 outside the wildcard", "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\nX-Gatehouse-App-Id: com.a\r\nX-Gatehouse-Tunnel-Service: <ANY>\r\n\r\n", false, 403, ReasonOutsideWildcard},
		{"oversized head", "GET http://" + hp + "/ HTTP/1.1\r\nHost: " + hp + "\r\nX-Gatehouse-App-Id: com.a\r\nX-Pad: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n", false, 431, ReasonOversized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := w.srv.Metrics().Refusals(tc.reason)
			resp, _ := w.send(w.dial(tc.noCert), tc.head)
			resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get(RefusalHeader) != string(tc.reason) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, resp.Header.Get(RefusalHeader), tc.status, tc.reason)
			}
			if got := w.srv.Metrics().Refusals(tc.reason); got != before+1 {
				t.Fatalf("%s counted %d times, want %d", tc.reason, got, before+1)
			}
		})
	}
	if w.uem.reportCount() != 0 {
		t.Fatal("a refused request reached the UEM")
	}
	if code, _, _ := w.get("http://"+hp+"/ok", app("com.a")); code != http.StatusOK {
		t.Fatalf("listener affected: %d", code)
	}
}

// TestMalformedRequestLineCounted: a request net/http refuses itself
// (before any handler) is counted as malformed too.
func TestMalformedRequestLineCounted(t *testing.T) {
	w := newWorld(t)
	c := w.dial(false)
	resp, _ := w.send(c, "\x01\x02 garbage\r\n\r\n")
	resp.Body.Close()
	c.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
	deadline := 0
	for w.srv.Metrics().Refusals(ReasonMalformed) == 0 && deadline < 1000 {
		deadline++
		w.dial(false).Close() // each dial is a round trip; the close of c has been seen by then
	}
	if w.srv.Metrics().Refusals(ReasonMalformed) != 1 {
		t.Fatalf("malformed count %d", w.srv.Metrics().Refusals(ReasonMalformed))
	}
}

func TestATS17PassThroughDeviceAuthRefused(t *testing.T) {
	w := newWorld(t)
	w.auth = nil
	w.configure(func(*uemapi.AppTunnelConfig, *uemapi.TrafficControl) {})
	if code, why, _ := w.get("http://"+w.backendHostPort()+"/", app("com.a")); code != http.StatusProxyAuthRequired || why != string(ReasonAuthUnsupported) {
		t.Fatalf("%d %q", code, why)
	}
}
