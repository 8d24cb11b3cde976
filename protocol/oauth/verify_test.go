package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const exo = "https://outlook.office365.com"

var (
	keyOnce    sync.Once
	key1, key2 jose.JSONWebKey
)

// testKeys returns two signing keys (kid k1 and k2), generated once.
func testKeys(t testing.TB) (jose.JSONWebKey, jose.JSONWebKey) {
	t.Helper()
	keyOnce.Do(func() {
		for i, k := range []*jose.JSONWebKey{&key1, &key2} {
			pk, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			*k = jose.JSONWebKey{Key: pk, KeyID: []string{"k1", "k2"}[i], Algorithm: string(jose.RS256), Use: "sig"}
		}
	})
	return key1, key2
}

var now0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func goodClaims() Claims {
	return Claims{Claims: jwt.Claims{Issuer: "https://sts.idp.test/", Subject: "s1", Audience: jwt.Audience{exo + "/"},
		IssuedAt: jwt.NewNumericDate(now0.Add(-time.Minute)), NotBefore: jwt.NewNumericDate(now0.Add(-time.Minute)),
		Expiry: jwt.NewNumericDate(now0.Add(time.Hour))}, UPN: "alice@example.test", UniqueName: "alice@example.test"}
}

func verifier(t testing.TB) *Verifier {
	k1, _ := testKeys(t)
	return &Verifier{Keys: StaticKeys{Keys: []jose.JSONWebKey{k1.Public()}}, Audiences: []string{exo}, Now: func() time.Time { return now0 }}
}

func sign(t testing.TB, k jose.JSONWebKey, c Claims) string {
	t.Helper()
	s, err := Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unsigned is the alg "none" form of c.
func unsigned(c Claims) string {
	s := sign(&testing.T{}, key1, c)
	parts := strings.Split(s, ".")
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1","typ":"JWT"}`))
	return hdr + "." + parts[1] + "."
}

// TestOAUBadTokensRefused: every bad token of the acceptance
// list is refused with its own reason, and only the good one passes.
func TestOAUBadTokensRefused(t *testing.T) {
	k1, k2 := testKeys(t)
	expired := goodClaims()
	expired.Expiry = jwt.NewNumericDate(now0.Add(-time.Second))
	notYet := goodClaims()
	notYet.NotBefore = jwt.NewNumericDate(now0.Add(time.Hour))
	wrongAud := goodClaims()
	wrongAud.Audience = jwt.Audience{"https://gateway.example.test"}
	noUser := goodClaims()
	noUser.UPN, noUser.UniqueName = "", ""
	noExp := goodClaims()
	noExp.Expiry = nil
	good := sign(t, k1, goodClaims())
	parts := strings.Split(good, ".")
	tampered := goodClaims()
	tampered.UPN = "bob@example.test"
	tamperedPayload := strings.Split(sign(t, k1, tampered), ".")[1]
	hs := func() string {
		sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		s, _ := jwt.Signed(sig).Claims(goodClaims()).Serialize()
		return s
	}()
	for _, tc := range []struct {
		name, header string
		want         error
	}{
		{"good", "Bearer " + good, nil},
		{"good, scheme in lower case", "bearer " + good, nil},
		{"no header", "", ErrNoToken},
		{"basic", "Basic YWxpY2U6cHc=", ErrNoToken},
		{"empty bearer", "Bearer ", ErrNoToken},
		{"malformed: two parts", "Bearer abc.def", ErrMalformed},
		{"malformed: junk", "Bearer a.b.c", ErrMalformed},
		{"malformed: not base64url", "Bearer a+b.c/d.e=", ErrMalformed},
		{"alg none", "Bearer " + unsigned(goodClaims()), ErrAlgorithm},
		{"alg HS256 (key confusion)", "Bearer " + hs, ErrAlgorithm},
		{"wrongly signed (unknown kid)", "Bearer " + sign(t, k2, goodClaims()), ErrUnknownKey},
		{"wrongly signed (known kid, other key)", "Bearer " + sign(t, jose.JSONWebKey{Key: k2.Key, KeyID: "k1"}, goodClaims()), ErrSignature},
		{"tampered payload", "Bearer " + parts[0] + "." + tamperedPayload + "." + parts[2], ErrSignature},
		{"expired", "Bearer " + sign(t, k1, expired), ErrExpired},
		{"not yet valid", "Bearer " + sign(t, k1, notYet), ErrExpired},
		{"no exp", "Bearer " + sign(t, k1, noExp), ErrExpired},
		{"wrong audience", "Bearer " + sign(t, k1, wrongAud), ErrAudience},
		{"no user", "Bearer " + sign(t, k1, noUser), ErrNoUser},
		{"oversized", "Bearer " + good + strings.Repeat("A", MaxAuthorization), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verifier(t).VerifyHeader(context.Background(), tc.header)
			if !errors.Is(err, tc.want) || (tc.want != nil && c.User() != "") {
				t.Fatalf("VerifyHeader: %v (user %q), want %v", err, c.User(), tc.want)
			}
			if tc.want == nil && c.User() != "alice@example.test" {
				t.Fatalf("user %q", c.User())
			}
			if tc.want != nil && Reason(err) == "invalid" {
				t.Fatalf("reason of %v is not named", err)
			}
		})
	}
}

// FuzzVerifyHeader: no Authorization header makes the verifier panic or
// accept a token that was not signed by the key set.
func FuzzVerifyHeader(f *testing.F) {
	k1, _ := testKeys(f)
	good := sign(f, k1, goodClaims())
	for _, s := range []string{"Bearer " + good, "Bearer " + unsigned(goodClaims()), "Bearer a.b.c", "Basic x", "Bearer ...", "Bearer e30.e30.e30"} {
		f.Add(s)
	}
	v := verifier(f)
	f.Fuzz(func(t *testing.T, h string) {
		c, err := v.VerifyHeader(context.Background(), h)
		if err != nil {
			return
		}
		// Accepted: it must be a token the key signed, so the signature
		// verifies with the public key independently of Verify.
		tok, perr := jwt.ParseSigned(strings.TrimSpace(h[len("Bearer "):]), accepted)
		var back Claims
		if perr != nil || tok.Claims(k1.Public().Key, &back) != nil || back.User() != c.User() {
			t.Fatalf("accepted a token that does not verify on its own: %q", h)
		}
	})
}

func TestChallengeRewrite(t *testing.T) {
	in := Challenge("https://login.idp.test/common/oauth2/authorize", ErrExpired)
	out := WithChallengeURI(in, "https://gw.test/proxyservice/oauth2/authorize")
	if u, ok := ChallengeURI(out); !ok || u != "https://gw.test/proxyservice/oauth2/authorize" || !strings.Contains(out, `error="invalid_token"`) {
		t.Fatalf("rewritten %q", out)
	}
	if got := WithChallengeURI(`Basic realm="x"`, "https://gw"); got != `Basic realm="x"` {
		t.Fatalf("Basic challenge changed: %q", got)
	}
	if got := WithChallengeURI(`Bearer realm="x"`, "https://gw"); got != `Bearer authorization_uri="https://gw", realm="x"` {
		t.Fatalf("bare Bearer challenge: %q", got)
	}
	if Challenge("u", ErrNoToken) != `Bearer authorization_uri="u"` {
		t.Fatal("no-token challenge carries an error")
	}
}
