package idp

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"sync/atomic"
	"time"
)

// maxGrants bounds the codes and refresh tokens held; past it the oldest
// are dropped (a fake's memory stays bounded under a load run).
const maxGrants = 100000

// grant is what a code or a refresh token stands for.
type grant struct {
	user, clientID, redirectURI, resource string
	challenge                             string // PKCE S256 code_challenge (codes only)
	until                                 time.Time
}

// grants holds the outstanding authorization codes (single use) and
// refresh tokens.
type grants struct {
	mu      sync.Mutex
	codes   map[string]grant
	refresh map[string]grant
}

func newGrants() *grants { return &grants{codes: map[string]grant{}, refresh: map[string]grant{}} }

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (g *grants) put(m map[string]grant, v grant) string {
	k := randomToken()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(m) >= maxGrants {
		for old := range m { // map order: an arbitrary one goes
			delete(m, old)
			break
		}
	}
	m[k] = v
	return k
}

func (g *grants) newCode(v grant) string    { return g.put(g.codes, v) }
func (g *grants) newRefresh(v grant) string { return g.put(g.refresh, v) }

// redeem takes a code out (a code is used once) if it is still valid.
func (g *grants) redeem(code string, now time.Time) (grant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.codes[code]
	delete(g.codes, code)
	return v, ok && now.Before(v.until)
}

// lookupRefresh finds a refresh token that is still valid.
func (g *grants) lookupRefresh(rt string, now time.Time) (grant, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.refresh[rt]
	return v, ok && now.Before(v.until)
}

// counters count what the IdP did, for tests and the lab.
type counters struct {
	signIns, badPasswords, tokens, refreshes, caRefusals, badGrants atomic.Int64
}

// Counts is a snapshot of the counters.
type Counts struct {
	SignIns      int64 `json:"sign_ins"`      // successful sign-ins (codes issued)
	BadPasswords int64 `json:"bad_passwords"` // refused sign-ins
	Tokens       int64 `json:"tokens"`        // access tokens issued (code and refresh)
	Refreshes    int64 `json:"refreshes"`     // of which by refresh token
	CARefusals   int64 `json:"ca_refusals"`   // conditional access refused the source (OAU-07)
	BadGrants    int64 `json:"bad_grants"`    // token requests refused (code, verifier, refresh token, resource)
}

// Counts returns the counters.
func (s *Server) Counts() Counts {
	c := &s.counts
	return Counts{SignIns: c.signIns.Load(), BadPasswords: c.badPasswords.Load(), Tokens: c.tokens.Load(),
		Refreshes: c.refreshes.Load(), CARefusals: c.caRefusals.Load(), BadGrants: c.badGrants.Load()}
}
