package device_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// An app with Kerberos (ATS-17) sends a fresh Negotiate ticket for the
// gateway's principal in Proxy-Authorization on CONNECT and on
// absolute-form requests, and no certificate.
func TestATS17AppSendsAKerberosTicketToTheTunnel(t *testing.T) {
	s, err := kdc.New(kdc.Config{Realm: "CORP.EXAMPLE", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	for _, p := range []kdc.Principal{{Name: "HTTP/gw.corp.example", Password: "gw"}, {Name: "alice", Password: "alice-pw"}} {
		if err := s.AddPrincipal(p); err != nil {
			t.Fatal(err)
		}
	}
	kt, err := s.Keytab("HTTP/gw.corp.example")
	if err != nil {
		t.Fatal(err)
	}
	auth := &exchange.NegotiateAuthenticator{Keytab: kt, Realm: "CORP.EXAMPLE"}
	var seen []string
	tunnel := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Authorization", r.Header.Get("Proxy-Authorization"))
		user, err := auth.Authenticate(r)
		if err != nil || len(r.TLS.PeerCertificates) != 0 {
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
		seen = append(seen, r.Method+" "+user)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(tunnel.Close)
	c := &kerberos.S4UClient{Principal: "alice", Realm: "CORP.EXAMPLE", Secret: kerberos.Secret{Password: "alice-pw"},
		Transport: kerberos.TransportFunc(func(_ context.Context, _ string, msg []byte) ([]byte, error) { return s.Handle(msg), nil })}
	app := &device.App{Tunnel: strings.TrimPrefix(tunnel.URL, "https://"), BundleID: "com.a", DeviceUUID: "u1",
		Kerberos: device.KerberosAuth(c, "HTTP/gw.corp.example")}
	for range 2 {
		if res, err := app.Get(context.Background(), "http://intranet.corp.example/"); err != nil || res.Status != http.StatusOK {
			t.Fatalf("Get with a ticket: %+v %v", res, err)
		}
	}
	conn, res, err := app.Connect(context.Background(), "files.corp.example:445")
	if err != nil {
		t.Fatalf("Connect with a ticket: %+v %v", res, err)
	}
	conn.Close()
	if strings.Join(seen, ",") != "GET alice,GET alice,CONNECT alice" {
		t.Fatalf("the tunnel authenticated %q", seen)
	}
}
