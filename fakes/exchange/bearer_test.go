package exchange

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
)

// TestOAUExchangeBearer: the fake Exchange accepts a valid bearer token
// for Exchange Online's audience and answers 401 with the Bearer
// challenge (authorization_uri) when the token is missing, expired, for
// another audience, or used from an untrusted address (OAU-07); Basic
// still works beside it.
func TestOAUExchangeBearer(t *testing.T) {
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := jose.JSONWebKey{Key: pk, KeyID: "k1", Algorithm: "RS256", Use: "sig"}
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.Public()}})
	}))
	defer jwks.Close()
	const authz = "https://login.idp.test/common/oauth2/authorize"
	srv, err := New(Config{PlainHTTP: true, MessagesPerUser: -1, Users: []User{{Name: "alice", Password: "pw"}},
		Bearer: &BearerConfig{JWKSURL: jwks.URL, Client: jwks.Client(), AuthorizationURI: authz,
			AllowedSources: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	tok := func(aud string, exp time.Duration) string {
		now := time.Now()
		s, err := oauth.Sign(key, oauth.Claims{Claims: jwt.Claims{Audience: jwt.Audience{aud}, Expiry: jwt.NewNumericDate(now.Add(exp)),
			IssuedAt: jwt.NewNumericDate(now.Add(-time.Hour))}, UPN: "alice@example.test"})
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	options := func(src, auth string) *http.Response {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
		req, _ := http.NewRequest(http.MethodOptions, srv.EASURL(), nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		name, src, auth string
		want            int
	}{
		{"valid token", "127.0.0.1", tok(ExchangeOnlineResource+"/", time.Hour), 200},
		{"basic beside it", "127.0.0.1", "Basic YWxpY2U6cHc=", 200},
		{"no credentials", "127.0.0.1", "", 401},
		{"expired", "127.0.0.1", tok(ExchangeOnlineResource, -time.Minute), 401},
		{"other audience", "127.0.0.1", tok("https://gateway.example.test", time.Hour), 401},
		{"untrusted address", "127.0.0.3", tok(ExchangeOnlineResource, time.Hour), 401},
		{"alg none", "127.0.0.1", "Bearer eyJhbGciOiJub25lIn0.eyJ1cG4iOiJhbGljZUBleGFtcGxlLnRlc3QifQ.", 401},
	} {
		resp := options(tc.src, tc.auth)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		if tc.want == 401 {
			if u, ok := oauth.ChallengeURI(resp.Header.Get("WWW-Authenticate")); !ok || u != authz {
				t.Errorf("%s: challenge %q", tc.name, resp.Header.Values("WWW-Authenticate"))
			}
			if !strings.HasPrefix(resp.Header.Values("WWW-Authenticate")[1], "Basic") {
				t.Errorf("%s: no Basic challenge beside the Bearer one", tc.name)
			}
		}
	}
}
