package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestJWKSRotationFetchesOncePerInterval: a new kid (the IdP rotated its
// key) fetches the set again; made-up kids cost at most one fetch per
// MinRefresh.
func TestJWKSRotationFetchesOncePerInterval(t *testing.T) {
	k1, k2 := testKeys(t)
	var mu sync.Mutex
	set := []jose.JSONWebKey{k1.Public()}
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/keys" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: set})
	}))
	defer srv.Close()
	clock := now0
	j := &JWKS{URL: srv.URL + "/keys", Client: srv.Client(), MinRefresh: time.Minute, Now: func() time.Time { return clock }}
	ctx := context.Background()
	if _, err := j.Key(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := j.Key(ctx, "made-up"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	mu.Lock()
	set = append(set, k2.Public())
	mu.Unlock()
	clock = clock.Add(2 * time.Minute)
	if _, err := j.Key(ctx, "k2"); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	// The IdP drops k1: once the set is older than MaxAge, k1 stops verifying.
	mu.Lock()
	set = []jose.JSONWebKey{k2.Public()}
	mu.Unlock()
	if _, err := j.Key(ctx, "k1"); err != nil {
		t.Fatalf("k1 within MaxAge: %v", err)
	}
	clock = clock.Add(10 * time.Minute)
	if _, err := j.Key(ctx, "k1"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("dropped k1 after MaxAge: %v", err)
	}
	if _, err := (&JWKS{URL: srv.URL + "/missing", Client: http.DefaultClient}).Key(ctx, "k1"); err == nil {
		t.Fatal("a set that cannot be fetched gave a key")
	}
}

// BenchmarkVerifyCachedJWKS is the gateway's cost per request of
// validating a token locally with the key set cached (issue 24).
func BenchmarkVerifyCachedJWKS(b *testing.B) {
	k1, _ := testKeys(b)
	v := verifier(b)
	h := "Bearer " + sign(b, k1, goodClaims())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.VerifyHeader(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}
