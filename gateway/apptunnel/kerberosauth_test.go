package apptunnel

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

const gatewaySPN = "HTTP/gateway.test"

// krbWorld is a fake KDC with the gateway's principal and alice, and the
// gateway's Kerberos configuration (password, KRB-04) in a Delegator.
type krbWorld struct {
	kdc   *kdc.Server
	deleg *delegation.Delegator
}

func newKrbWorld(t *testing.T) *krbWorld {
	t.Helper()
	s, err := kdc.New(kdc.Config{Realm: "CORP.EXAMPLE", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	for _, p := range []kdc.Principal{{Name: gatewaySPN, Password: "gw-secret"}, {Name: "alice", Password: "alice-pw"}, {Name: "HTTP/other.test", Password: "x"}} {
		if err := s.AddPrincipal(p); err != nil {
			t.Fatal(err)
		}
	}
	d, err := delegation.New(uemapi.KerberosConfig{Realm: "CORP.EXAMPLE", ServicePrincipal: gatewaySPN, Password: "gw-secret", KDCs: s.Addr()},
		delegation.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return &krbWorld{kdc: s, deleg: d}
}

// negotiate is a fresh "Negotiate …" value for alice's ticket to spn.
func (k *krbWorld) negotiate(t *testing.T, spn string) string {
	t.Helper()
	c := &kerberos.S4UClient{Principal: "alice", Realm: "CORP.EXAMPLE", Secret: kerberos.Secret{Password: "alice-pw"},
		Transport: kerberos.TransportFunc(func(_ context.Context, _ string, msg []byte) ([]byte, error) { return k.kdc.Handle(msg), nil })}
	cr, err := c.OwnTicket(context.Background(), spn)
	if err != nil {
		t.Fatal(err)
	}
	h, err := cr.NegotiateHeader(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestATS17KerberosDeviceAuthOnTheTunnelListener(t *testing.T) {
	k := newKrbWorld(t)
	w := newWorld(t, func(w *world) { w.acceptor = k.deleg })
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) {
		at.DeviceAuth, at.ContextHeaders = uemapi.AppAuthKerberos, true
	})
	target := "http://" + w.backendHostPort() + "/k"
	head := func(extra string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: " + w.backendHostPort() + "\r\n" + HeaderAppID + ": com.a\r\n" +
			HeaderDeviceUUID + ": " + testUUID + "\r\n" + extra + "\r\n"
	}
	// No ticket: 407 asking for Negotiate, even with a certificate.
	resp, _ := w.send(w.dial(false), head(""))
	if resp.StatusCode != http.StatusProxyAuthRequired || resp.Header.Get("Proxy-Authenticate") != "Negotiate" || resp.Header.Get(RefusalHeader) != string(ReasonNegotiate) {
		t.Fatalf("no ticket: %d %q %q", resp.StatusCode, resp.Header.Get("Proxy-Authenticate"), resp.Header.Get(RefusalHeader))
	}
	// A ticket for another service, and garbage: refused, asked again.
	for _, bad := range []string{k.negotiate(t, "HTTP/other.test"), "Negotiate YWxpY2U="} {
		resp, _ = w.send(w.dial(true), head("Proxy-Authorization: "+bad+"\r\n"))
		if resp.StatusCode != http.StatusProxyAuthRequired || resp.Header.Get(RefusalHeader) != string(ReasonTicketRefused) || resp.Header.Get("Proxy-Authenticate") != "Negotiate" {
			t.Fatalf("bad ticket: %d %q", resp.StatusCode, resp.Header.Get(RefusalHeader))
		}
	}
	// A ticket for the gateway, no certificate: through, as alice; the
	// connection stays authenticated for its next request.
	c := w.dial(true)
	keep := "GET " + target + " HTTP/1.1\r\nHost: " + w.backendHostPort() + "\r\n" + HeaderAppID + ": com.a\r\n" + HeaderDeviceUUID + ": " + testUUID + "\r\n"
	resp, br := w.send(c, keep+"Proxy-Authorization: "+k.negotiate(t, gatewaySPN)+"\r\n\r\n")
	echo := map[string]string{}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ticket for the gateway: %d %q", resp.StatusCode, resp.Header.Get(RefusalHeader))
	}
	if err := json.NewDecoder(resp.Body).Decode(&echo); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := func(k string) string { return echo[http.CanonicalHeaderKey(k)] }
	if h(CtxUserUPN) != "alice@corp.example" || h(CtxDeviceUUID) != testUUID || h(CtxUserCert) != "" || h("Proxy-Authorization") != "" {
		t.Fatalf("server saw %v; want alice's UPN, the device UUID, no certificate and no Proxy-Authorization", echo)
	}
	if _, err := c.Write([]byte(keep + "\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("second request on the authenticated connection: %v %v", resp, err)
	}
	resp.Body.Close()
	// CONNECT (V2) with a ticket.
	resp, _ = w.send(w.dial(true), "CONNECT "+w.backendHostPort()+" HTTP/1.1\r\nHost: "+w.backendHostPort()+"\r\n"+HeaderAppID+": com.a\r\n"+
		HeaderDeviceUUID+": "+testUUID+"\r\nProxy-Authorization: "+k.negotiate(t, gatewaySPN)+"\r\n\r\n")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT with a ticket: %d %q", resp.StatusCode, resp.Header.Get(RefusalHeader))
	}
	if n := w.srv.Metrics().Refusals(ReasonNegotiate) + w.srv.Metrics().Refusals(ReasonTicketRefused); n != 3 {
		t.Fatalf("counted %d Kerberos refusals, want 3", n)
	}
}

func TestATS17PassThroughStaysRefusedWithKerberos(t *testing.T) {
	k := newKrbWorld(t)
	w := newWorld(t, func(w *world) { w.acceptor = k.deleg })
	pt, err := deviceauth.New(uemapi.DeviceAuth{Mode: uemapi.DeviceAuthPassThrough}, deviceauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := w.auth
	w.auth = pt
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) { at.DeviceAuth = uemapi.AppAuthKerberos })
	code, why, _ := w.get("http://"+w.backendHostPort()+"/", map[string]string{HeaderAppID: "com.a", HeaderDeviceUUID: testUUID,
		"Proxy-Authorization": k.negotiate(t, gatewaySPN)})
	if code != http.StatusProxyAuthRequired || why != string(ReasonAuthUnsupported) {
		t.Fatalf("pass through + ticket: %d %q, want 407 %s", code, why, ReasonAuthUnsupported)
	}
	w.acceptor = nil // Kerberos asked for, no Kerberos configuration at the gateway
	w.auth = id
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) { at.DeviceAuth = uemapi.AppAuthKerberos })
	if code, why, _ := w.get("http://"+w.backendHostPort()+"/", map[string]string{HeaderAppID: "com.a", HeaderDeviceUUID: testUUID}); code != http.StatusProxyAuthRequired || why != string(ReasonAuthUnsupported) {
		t.Fatalf("no Kerberos configuration: %d %q", code, why)
	}
}

func kdcPrincipal(name, password string) kdc.Principal {
	return kdc.Principal{Name: name, Password: password}
}
