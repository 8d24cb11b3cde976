package idp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
)

const exo = "https://outlook.office365.com"

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = []User{{Name: "alice", Password: "alice-pw"}}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// clientFrom is an HTTP client trusting s, dialling from the loopback
// address src (conditional access tells sources apart), never following
// redirects (the redirect_uri is the app's, not a server).
func clientFrom(s *Server, src string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Timeout: 10 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn drives the code flow with PKCE as a mail app does with
// golang.org/x/oauth2: the sign-in form, then the code exchange.
func signIn(t *testing.T, s *Server, hc *http.Client, user, pw, resource string) (*oauth2.Config, *oauth2.Token, error) {
	t.Helper()
	conf := &oauth2.Config{ClientID: "ios-mail", RedirectURL: "com.apple.mobilemail://oauth-redirect",
		Endpoint: oauth2.Endpoint{AuthURL: s.AuthorizeURL(), TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	resp, err := hc.PostForm(authURL, url.Values{"login": {user}, "passwd": {pw}})
	if err != nil {
		return nil, nil, err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, nil, errors.New("sign-in answered " + resp.Status)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if e := loc.Query().Get("error"); e != "" || loc.Query().Get("state") != "st4te" {
		return nil, nil, errors.New("sign-in redirected with " + e)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	return conf, tok, err
}

func verifierFor(s *Server, hc *http.Client) *oauth.Verifier {
	return &oauth.Verifier{Keys: &oauth.JWKS{URL: s.KeysURL(), Client: hc, MinRefresh: time.Nanosecond}, Audiences: []string{exo}}
}

// TestOAUCodeFlowWithPKCEAndRefresh: sign-in, code for tokens, the access
// token verifies against the JWKS with aud = resource and the user's UPN,
// and the refresh token gets a new access token.
func TestOAUCodeFlowWithPKCEAndRefresh(t *testing.T) {
	s := start(t, Config{})
	hc := clientFrom(s, "127.0.0.1")
	conf, tok, err := signIn(t, s, hc, "EXAMPLE\\alice", "alice-pw", exo)
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifierFor(s, hc).VerifyHeader(context.Background(), "Bearer "+tok.AccessToken)
	if err != nil || c.User() != "alice@example.test" || c.UniqueName != c.UPN || c.AppID != "ios-mail" || c.IPAddr != "127.0.0.1" {
		t.Fatalf("claims %+v, %v", c, err)
	}
	old := *tok
	old.Expiry = time.Now().Add(-time.Hour) // make the token source refresh
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	fresh, err := conf.TokenSource(ctx, &old).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	if n := s.Counts(); n.SignIns != 1 || n.Tokens != 2 || n.Refreshes != 1 {
		t.Fatalf("counts %+v", n)
	}
}

// TestOAURefusals: a wrong password, a missing or wrong PKCE verifier, a
// reused code and an unknown resource are refused.
func TestOAURefusals(t *testing.T) {
	s := start(t, Config{})
	hc := clientFrom(s, "127.0.0.1")
	if _, _, err := signIn(t, s, hc, "alice", "wrong", exo); err == nil {
		t.Fatal("wrong password signed in")
	}
	if _, _, err := signIn(t, s, hc, "alice", "alice-pw", "https://gateway.example.test"); err == nil || !strings.Contains(err.Error(), "invalid_resource") {
		t.Fatalf("unknown resource: %v", err)
	}
	conf := &oauth2.Config{ClientID: "c", RedirectURL: "app://r", Endpoint: oauth2.Endpoint{AuthURL: s.AuthorizeURL(), TokenURL: s.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
	v := oauth2.GenerateVerifier()
	resp, err := hc.PostForm(conf.AuthCodeURL("x", oauth2.S256ChallengeOption(v)), url.Values{"login": {"alice"}, "passwd": {"alice-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("wrong verifier accepted")
	}
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
		t.Fatal("a code was redeemed twice")
	}
	if s.Counts().BadGrants != 3 { // wrong resource is refused at authorize; two bad exchanges
		t.Logf("counts %+v", s.Counts())
	}
}

// TestOAU07ConditionalAccess: with the gateway's address as the only
// trusted location, a client from another address cannot sign in.
func TestOAU07ConditionalAccess(t *testing.T) {
	s := start(t, Config{AllowedSources: []netip.Addr{netip.MustParseAddr("127.0.0.2")}})
	if _, _, err := signIn(t, s, clientFrom(s, "127.0.0.3"), "alice", "alice-pw", exo); err == nil {
		t.Fatal("signed in from an untrusted address")
	}
	if _, _, err := signIn(t, s, clientFrom(s, "127.0.0.2"), "alice", "alice-pw", exo); err != nil {
		t.Fatalf("the trusted address: %v", err)
	}
	if s.Counts().CARefusals != 1 {
		t.Fatalf("counts %+v", s.Counts())
	}
}

// TestIdPFaults: expired and wrongly signed tokens fail verification for
// their reason; a rotation that drops the old key invalidates its tokens
// while a new sign-in verifies; down refuses connections.
func TestIdPFaults(t *testing.T) {
	s := start(t, Config{})
	hc := clientFrom(s, "127.0.0.1")
	v := verifierFor(s, hc)
	ctx := context.Background()
	for _, tc := range []struct {
		f    Faults
		want error
	}{{Faults{ExpiredTokens: true}, oauth.ErrExpired}, {Faults{WrongKey: true}, oauth.ErrSignature}} {
		if err := s.SetFaults(tc.f); err != nil {
			t.Fatal(err)
		}
		_, tok, err := signIn(t, s, hc, "alice", "alice-pw", exo)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.VerifyHeader(ctx, "Bearer "+tok.AccessToken); !errors.Is(err, tc.want) {
			t.Fatalf("%+v: %v, want %v", tc.f, err, tc.want)
		}
	}
	_ = s.SetFaults(Faults{})
	_, before, err := signIn(t, s, hc, "alice", "alice-pw", exo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateKey(false); err != nil {
		t.Fatal(err)
	}
	v.Keys.(*oauth.JWKS).Forget() // as the key set's MaxAge would
	if _, err := v.VerifyHeader(ctx, "Bearer "+before.AccessToken); !errors.Is(err, oauth.ErrUnknownKey) {
		t.Fatalf("token of a dropped key: %v", err)
	}
	_, after, err := signIn(t, s, hc, "alice", "alice-pw", exo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyHeader(ctx, "Bearer "+after.AccessToken); err != nil {
		t.Fatalf("token of the new key: %v", err)
	}
	if err := s.SetFaults(Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(s.KeysURL()); err == nil {
		t.Fatal("down IdP answered")
	}
	if err := s.SetFaults(Faults{LatencyMs: -1}); err == nil {
		t.Fatal("negative latency accepted")
	}
}
