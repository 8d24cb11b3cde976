package oauth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Validated tokens are remembered so that a device's requests cost one
// RSA verification per token, not one each (docs/oauth.md has the
// figures). Only accepted tokens are kept, under the SHA-256 of the whole
// token, never the token; an entry lasts until the token expires, at
// most tokenCacheTTL (the JWKS's own MaxAge: a key the IdP drops stops
// verifying within it either way).
const (
	tokenCacheTTL = 5 * time.Minute
	// maxCachedTokens bounds the cache; when full it starts over.
	maxCachedTokens = 16384
)

type cachedToken struct {
	user  string
	until time.Time
}

type tokenCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]cachedToken
}

func (c *tokenCache) get(k [sha256.Size]byte, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || !now.Before(e.until) {
		return "", false
	}
	return e.user, true
}

func (c *tokenCache) put(k [sha256.Size]byte, user string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		c.m = make(map[[sha256.Size]byte]cachedToken)
	}
	c.m[k] = cachedToken{user: user, until: until}
}
