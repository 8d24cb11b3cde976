package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// gateWithKey is a Gate whose IdP (an httptest server) publishes one key;
// it returns a signer of tokens for Exchange Online expiring at exp.
func gateWithKey(tb testing.TB, clock *time.Time) (*Gate, func(exp time.Time) string) {
	tb.Helper()
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	key := jose.JSONWebKey{Key: pk, KeyID: "k1", Algorithm: "RS256", Use: "sig"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.Public()}})
	}))
	tb.Cleanup(srv.Close)
	g := NewGate(uemapi.OAuthSettings{TokenEndpoint: srv.URL + "/common/oauth2/token"}, Options{Client: srv.Client(), Now: func() time.Time { return *clock }})
	return g, func(exp time.Time) string {
		s, err := oauth.Sign(key, oauth.Claims{Claims: jwt.Claims{Audience: jwt.Audience{"https://outlook.office365.com"},
			Expiry: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(clock.Add(-time.Minute))}, UPN: "alice@example.test"})
		if err != nil {
			tb.Fatal(err)
		}
		return "Bearer " + s
	}
}

// TestOAUCachedTokenStillExpires: a validated token is remembered, but
// never past its own expiry.
func TestOAUCachedTokenStillExpires(t *testing.T) {
	clock := time.Now()
	g, sign := gateWithKey(t, &clock)
	tok := sign(clock.Add(time.Minute))
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if u, err := g.User(ctx, tok); err != nil || u != "alice@example.test" {
			t.Fatalf("valid token: %q %v", u, err)
		}
	}
	clock = clock.Add(2 * time.Minute)
	if _, err := g.User(ctx, tok); !errors.Is(err, oauth.ErrExpired) {
		t.Fatalf("expired token after caching: %v", err)
	}
	if c := g.Counts(); c.Accepted != 2 || c.Refused["expired"] != 1 {
		t.Fatalf("counts %+v", c)
	}
}

// BenchmarkOAUGateUser is the gateway's token check per request: "first"
// verifies a new token each time (RSA, JWKS cached), "cached" a device's
// next requests with the same token.
func BenchmarkOAUGateUser(b *testing.B) {
	clock := time.Now()
	g, sign := gateWithKey(b, &clock)
	ctx := context.Background()
	b.Run("first", func(b *testing.B) {
		toks := make([]string, 64)
		for i := range toks {
			toks[i] = sign(clock.Add(time.Hour + time.Duration(i)*time.Second))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			g.cache = tokenCache{} // every request a token not seen yet
			if _, err := g.User(ctx, toks[i%len(toks)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("cached", func(b *testing.B) {
		tok := sign(clock.Add(time.Hour))
		_, _ = g.User(ctx, tok)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.User(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
