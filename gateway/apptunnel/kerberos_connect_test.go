package apptunnel

import (
	"net/http"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ATS-14 (and ATS-12/13 on CONNECT): a CONNECT to a service with Kerberos
// server authentication gets the user's delegated ticket for the server's
// SPN before the 200 (docs/apptunnel.md §1): cifs/ for CIFS services, the
// paired SPN for a CIFS server given by IP, cifs/<FQDN> for one given by
// name without an SPN list, cifs/<host asked> for <CIFS_ANY>; none for
// TCP. No ticket: 502 kerberos-failed and no tunnel.
func TestATS14KerberosOnConnectAndCIFSTunnelsAsksForTheRightSPN(t *testing.T) {
	kdc := &fakeKDC{}
	w := newWorld(t, func(w *world) { w.kerberos = kdc })
	hp := w.backendHostPort() // 127.0.0.1:port
	port := portOf(hp)
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) {
		at.Services = append(at.Services,
			uemapi.AppTunnelService{Name: "CIFS_ByIP", Servers: hp, SPNs: "cifs/s01-dfs12-001.example.com", ServerAuth: uemapi.AuthKerberos},
			uemapi.AppTunnelService{Name: "CIFS_ByName", Servers: "localhost:" + port, ServerAuth: uemapi.AuthKerberos},
			uemapi.AppTunnelService{Name: uemapi.ServiceCIFSAny, ServerAuth: uemapi.AuthKerberos},
			uemapi.AppTunnelService{Name: "Secure", Servers: "localhost:" + port, ServerAuth: uemapi.AuthKerberos})
	})
	connect := func(target, svc string) (int, string) {
		t.Helper()
		resp, _ := w.send(w.dial(false), "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n"+HeaderAppID+": com.docs\r\n"+HeaderService+": "+svc+"\r\n\r\n")
		return resp.StatusCode, resp.Header.Get(RefusalHeader)
	}
	for _, tc := range []struct{ target, svc string }{
		{hp, "CIFS_ByIP"}, {"localhost:" + port, "CIFS_ByName"}, {"LocalHost:" + port, uemapi.ServiceCIFSAny},
		{"localhost:" + port, "Secure"}, {hp, uemapi.ServiceTCPAny},
	} {
		if code, why := connect(tc.target, tc.svc); code != http.StatusOK {
			t.Fatalf("CONNECT %s via %s: %d %q", tc.target, tc.svc, code, why)
		}
	}
	kdc.mu.Lock()
	got := append([]string(nil), kdc.asked...)
	kdc.fail = true
	kdc.mu.Unlock()
	want := []string{"alice@corp.example -> cifs/s01-dfs12-001.example.com", "alice@corp.example -> cifs/localhost",
		"alice@corp.example -> cifs/localhost", "alice@corp.example -> HTTP/localhost"}
	if len(got) != len(want) {
		t.Fatalf("tickets asked %q, want %q (none for <TCP_ANY>)", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tickets asked %q, want %q", got, want)
		}
	}
	if code, why := connect(hp, "CIFS_ByIP"); code != http.StatusBadGateway || why != string(ReasonKerberos) {
		t.Fatalf("KDC refuses: %d %q, want 502 %s", code, why, ReasonKerberos)
	}
	if code, _ := connect(hp, uemapi.ServiceTCPAny); code != http.StatusOK {
		t.Fatalf("TCP (Pass Through) with the KDC down: %d", code)
	}
}
