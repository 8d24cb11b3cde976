package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxJWKS bounds a key set document.
const maxJWKS = 1 << 20

// JWKS is a key set fetched from URL and cached: a kid it does not hold
// fetches the set again (key rotation), at most once per MinRefresh, so a
// flood of tokens with made-up kids costs one fetch, not one each. After
// MaxAge the set is fetched again even for a known kid, so a key the IdP
// dropped stops verifying; if that fetch fails the cached key is used
// (an IdP outage does not stop devices holding valid tokens).
type JWKS struct {
	URL        string
	Client     *http.Client  // default http.DefaultClient
	MinRefresh time.Duration // default 10 s
	MaxAge     time.Duration // default 5 min
	Now        func() time.Time

	mu      sync.Mutex
	keys    map[string]jose.JSONWebKey
	fetched time.Time
}

// StaticKeys is a KeySource over a fixed key set (tests, benchmarks).
type StaticKeys jose.JSONWebKeySet

// Key implements KeySource.
func (s StaticKeys) Key(_ context.Context, kid string) (*jose.JSONWebKey, error) {
	for _, k := range s.Keys {
		if k.KeyID == kid {
			return &k, nil
		}
	}
	return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
}

// Key implements KeySource.
func (j *JWKS) Key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	maxAge := j.MaxAge
	if maxAge == 0 {
		maxAge = 5 * time.Minute
	}
	cached, known := j.keys[kid]
	if known && now().Sub(j.fetched) < maxAge {
		return &cached, nil
	}
	minRefresh := j.MinRefresh
	if minRefresh == 0 {
		minRefresh = 10 * time.Second
	}
	if !known && j.keys != nil && now().Sub(j.fetched) < minRefresh {
		return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
	}
	// Fetched under the lock: concurrent misses share one fetch.
	keys, err := j.fetch(ctx)
	if err != nil {
		if known {
			return &cached, nil // stale beats none while the IdP is away
		}
		return nil, fmt.Errorf("%w: %v", ErrKeysUnusable, err)
	}
	j.keys, j.fetched = keys, now()
	if k, ok := j.keys[kid]; ok {
		return &k, nil
	}
	return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
}

// Forget drops the cached keys, so the next token fetches the set.
func (j *JWKS) Forget() {
	j.mu.Lock()
	j.keys = nil
	j.mu.Unlock()
}

func (j *JWKS) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	c := j.Client
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: %s answered %d", j.URL, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKS)).Decode(&set); err != nil {
		return nil, fmt.Errorf("jwks: decode: %w", err)
	}
	keys := map[string]jose.JSONWebKey{}
	for _, k := range set.Keys {
		if k.KeyID != "" && k.IsPublic() && k.Valid() {
			keys[k.KeyID] = k
		}
	}
	return keys, nil
}
