// Package oauth is the gateway's OAuth pass-through (checklist OAU): the
// device-facing /proxyservice/oauth2/authorize and /token mapped to the
// destination IdP with the Sentry ↔ destination resource swap (OAU-04),
// and the Gate that validates a device's bearer token locally against
// the IdP's JWKS, names the user for the device cache and the UEM from
// the token (never from the query), and points Bearer challenges at the
// gateway. Tokens are never logged; only refusal reasons are counted.
package oauth

import (
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Paths the gateway serves devices on (OAU-04).
const (
	PathPrefix    = "/proxyservice/oauth2/"
	AuthorizePath = PathPrefix + "authorize"
	TokenPath     = PathPrefix + "token"
)

// Gate is one OAuth configuration in force: the destination endpoints,
// the resources and the token verifier. Safe for concurrent use.
type Gate struct {
	set      uemapi.OAuthSettings // with defaults
	client   *http.Client         // to the destination IdP
	verifier *oauth.Verifier
	jwks     *oauth.JWKS
	// Basic: Pass Through Basic is enabled beside OAuth, so a device
	// without credentials is offered both challenges.
	basic  bool
	key    string
	now    func() time.Time
	cache  tokenCache
	counts counts
}

// Options are what the gateway hands a Gate besides the UEM's settings.
type Options struct {
	// Client reaches the destination IdP (the gateway's outgoing TLS).
	Client *http.Client
	// Basic keeps a Basic challenge beside the Bearer one.
	Basic bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Key identifies what the Gate was built from, so an unchanged
	// configuration keeps its Gate (and its cached keys).
	Key string
}

// Key is Options.Key of the Gate.
func (g *Gate) Key() string { return g.key }

// NewGate builds the Gate for settings (defaults applied here).
func NewGate(settings uemapi.OAuthSettings, o Options) *Gate {
	set := settings.WithDefaults()
	client := &http.Client{Timeout: 30 * time.Second}
	if o.Client != nil {
		*client = *o.Client
	}
	// The authorize endpoint redirects to the app's redirect_uri: that is
	// the device's to follow, not the gateway's.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	o.Client = client
	// A new kid (the IdP rotated its key) fetches the set at most once a
	// second: a flood of made-up kids costs one fetch per second.
	keys := &oauth.JWKS{URL: KeysURL(set.TokenEndpoint), Client: o.Client, Now: o.Now, MinRefresh: time.Second}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Gate{set: set, client: o.Client, basic: o.Basic, jwks: keys, key: o.Key, now: o.Now,
		verifier: &oauth.Verifier{Keys: keys, Audiences: []string{set.DestinationResource}, Now: o.Now}}
}

// KeysURL derives the IdP's JWKS from its token endpoint, as Azure AD lays
// them out: …/oauth2/token → …/discovery/keys (v2.0 likewise).
func KeysURL(tokenEndpoint string) string {
	switch {
	case strings.HasSuffix(tokenEndpoint, "/oauth2/v2.0/token"):
		return strings.TrimSuffix(tokenEndpoint, "/oauth2/v2.0/token") + "/discovery/v2.0/keys"
	case strings.HasSuffix(tokenEndpoint, "/oauth2/token"):
		return strings.TrimSuffix(tokenEndpoint, "/oauth2/token") + "/discovery/keys"
	}
	return strings.TrimSuffix(tokenEndpoint, "/") + "/keys"
}

// Settings returns the settings in force, defaults applied.
func (g *Gate) Settings() uemapi.OAuthSettings { return g.set }

// User validates the request's bearer token and returns the user it names
// (the token's upn, else unique_name). The error wraps one of
// protocol/oauth's reasons, and is counted.
func (g *Gate) User(ctx context.Context, authorization string) (string, error) {
	now := g.now()
	k := sha256.Sum256([]byte(authorization))
	if u, ok := g.cache.get(k, now); ok {
		g.counts.accepted.Add(1)
		return u, nil
	}
	c, err := g.verifier.VerifyHeader(ctx, authorization)
	if err != nil {
		g.counts.refuse(oauth.Reason(err))
		return "", err
	}
	until := now.Add(tokenCacheTTL)
	if exp := c.Expiry.Time(); exp.Before(until) {
		until = exp
	}
	g.cache.put(k, c.User(), until)
	g.counts.accepted.Add(1)
	return c.User(), nil
}

// SentryResource is the resource the device asks for: configured, else
// https://<SentryHostName> from the Host the device used.
func (g *Gate) SentryResource(r *http.Request) string {
	if g.set.SentryResource != "" {
		return g.set.SentryResource
	}
	return "https://" + r.Host
}

// isSentryResource reports whether res names the gateway: the configured
// or derived Sentry resource, with or without the port.
func (g *Gate) isSentryResource(r *http.Request, res string) bool {
	want := g.SentryResource(r)
	if oauth.SameResource(res, want) {
		return true
	}
	if host, _, err := net.SplitHostPort(r.Host); err == nil && g.set.SentryResource == "" {
		return oauth.SameResource(res, "https://"+host)
	}
	return false
}

// SignInURL is the gateway's device-facing authorize URL (OAU-04).
func (g *Gate) SignInURL(r *http.Request) string { return "https://" + r.Host + AuthorizePath }

// Challenges are the WWW-Authenticate values for a request refused for
// err (nil or ErrNoToken: none was given): Bearer pointing at the
// gateway, and Basic when Pass Through Basic is on beside OAuth.
func (g *Gate) Challenges(r *http.Request, err error) []string {
	out := []string{oauth.Challenge(g.SignInURL(r), err)}
	if g.basic {
		out = append(out, `Basic realm="ActiveSync", charset="UTF-8"`)
	}
	return out
}

// RewriteChallenges points the Bearer challenges of an upstream answer at
// the gateway, so the device signs in through it; others are unchanged.
func (g *Gate) RewriteChallenges(r *http.Request, challenges []string) []string {
	out := make([]string, len(challenges))
	for i, c := range challenges {
		out[i] = oauth.WithChallengeURI(c, g.SignInURL(r))
	}
	return out
}

// IsBearer reports whether an Authorization header is a bearer token.
func IsBearer(authorization string) bool { return oauth.IsBearer(authorization) }

// ErrNoToken is the reason of a request without a token.
var ErrNoToken = oauth.ErrNoToken

// counts are the Gate's counters: tokens accepted, refusals by reason.
type counts struct {
	accepted atomic.Int64
	mu       sync.Mutex
	refused  map[string]int64
}

func (c *counts) refuse(reason string) {
	c.mu.Lock()
	if c.refused == nil {
		c.refused = map[string]int64{}
	}
	c.refused[reason]++
	c.mu.Unlock()
}

// Counts is a snapshot of a Gate's counters.
type Counts struct {
	Accepted int64            `json:"accepted"`
	Refused  map[string]int64 `json:"refused"` // by reason (protocol/oauth.Reason)
}

// Counts returns the counters.
func (g *Gate) Counts() Counts {
	g.counts.mu.Lock()
	defer g.counts.mu.Unlock()
	r := make(map[string]int64, len(g.counts.refused))
	for k, v := range g.counts.refused {
		r[k] = v
	}
	return Counts{Accepted: g.counts.accepted.Load(), Refused: r}
}
