package device_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/idp"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// oauthPeers are a fake IdP and a fake Exchange taking its tokens, and a
// client trusting both (the device talks to each straight, no gateway).
func oauthPeers(t *testing.T) (*idp.Server, *exchange.Server, *http.Client) {
	t.Helper()
	ip, err := idp.New(idp.Config{Users: []idp.User{{Name: "alice", Password: "alice-pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ip.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ip.Shutdown(context.Background()) })
	idpClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ip.CertPool()}}}
	x, err := exchange.New(exchange.Config{Users: []exchange.User{{Name: "alice", Password: "alice-pw"}}, MessagesPerUser: 4, Seed: 3,
		Bearer: &exchange.BearerConfig{JWKSURL: ip.KeysURL(), Client: idpClient, AuthorizationURI: ip.AuthorizeURL()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Shutdown(context.Background()) })
	roots := x.CertPool().Clone() // both fakes' self-signed certificates
	roots.AddCert(ip.Certificate())
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	t.Cleanup(hc.CloseIdleConnections)
	return ip, x, hc
}

// TestOAU06DeviceClasses: iOS native mail, iOS Email+ and Android Email+
// sign in with the code flow and PKCE and sync with bearer tokens.
func TestOAU06DeviceClasses(t *testing.T) {
	ip, x, hc := oauthPeers(t)
	for _, c := range []struct {
		id       string
		platform device.Platform
		class    device.Class
	}{{"IOSNATIVE", device.IOS, device.Native}, {"IOSEMAILPLUS", device.IOS, device.SecureApp}, {"ANDROIDEMAILPLUS", device.Android, device.SecureApp}} {
		d, err := device.New(device.Config{ID: c.id, User: "alice@example.test", Password: "alice-pw", Platform: c.platform, Class: c.class,
			OAuth: &device.OAuthConfig{AuthorityURL: ip.URL() + "/common", Resource: exchange.ExchangeOnlineResource}}, x.URL(), hc)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Connect(context.Background()); err != nil {
			t.Fatalf("%s: %v (%+v)", c.id, err, d.Last())
		}
		if n, _ := d.OAuthCounts(); n != 1 || len(d.Messages()) != 4 {
			t.Fatalf("%s: %d sign-ins, %d messages", c.id, n, len(d.Messages()))
		}
	}
}

// TestOAUDeviceRefreshesOn401: a token Exchange refuses (wrongly signed)
// gets a 401; the device refreshes and retries and the command succeeds.
// A wrong password fails sign-in with ErrSignIn.
func TestOAUDeviceRefreshesOn401(t *testing.T) {
	ip, x, hc := oauthPeers(t)
	d, err := device.New(device.Config{ID: "REFRESHER", User: "alice", Password: "alice-pw",
		OAuth: &device.OAuthConfig{AuthorityURL: ip.URL() + "/common", Resource: exchange.ExchangeOnlineResource}}, x.URL(), hc)
	if err != nil {
		t.Fatal(err)
	}
	_ = ip.SetFaults(idp.Faults{WrongKey: true})
	if err := d.SignIn(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = ip.SetFaults(idp.Faults{})
	if err := d.Connect(context.Background()); err != nil {
		t.Fatalf("connect: %v (%+v)", err, d.Last())
	}
	if !d.Saw("", http.StatusUnauthorized, 0) {
		t.Fatal("the wrongly signed token was not refused")
	}
	if _, refreshes := d.OAuthCounts(); refreshes != 1 {
		t.Fatalf("%d refreshes, want 1", refreshes)
	}
	bad, _ := device.New(device.Config{ID: "WRONGPW", User: "alice", Password: "nope",
		OAuth: &device.OAuthConfig{AuthorityURL: ip.URL() + "/common", Resource: exchange.ExchangeOnlineResource}}, x.URL(), hc)
	if err := bad.Connect(context.Background()); !errors.Is(err, device.ErrSignIn) {
		t.Fatalf("wrong password: %v", err)
	}
}
