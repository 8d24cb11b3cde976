package exchange

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
)

// ExchangeOnlineResource is the audience Exchange Online's access tokens
// carry (OAU-02's Destination Resource).
const ExchangeOnlineResource = "https://outlook.office365.com"

// BearerConfig makes the fake Exchange accept OAuth access tokens on
// ActiveSync (Authorization: Bearer) as Exchange Online does, besides
// Basic: RS256 tokens signed by a key of the IdP's JWKS, for Audience.
type BearerConfig struct {
	// JWKSURL is the IdP's key set (fakes/idp Server.KeysURL).
	JWKSURL string
	// Client fetches the key set; it must trust the IdP's certificate.
	Client *http.Client
	// Audience accepted; default https://outlook.office365.com.
	Audience string
	// AuthorizationURI is where the 401 challenge sends the client to
	// sign in (the IdP's authorize endpoint).
	AuthorizationURI string
	// AllowedSources is conditional access on token use (OAU-07): when
	// set, a bearer request from any other address is refused.
	AllowedSources []netip.Addr
	// JWKSMaxAge is how long fetched keys are trusted before the set is
	// fetched again; default 5 min.
	JWKSMaxAge time.Duration
}

func (b *BearerConfig) validate() error {
	if b.JWKSURL == "" || b.AuthorizationURI == "" {
		return &ConfigError{"Bearer", "JWKSURL and AuthorizationURI are required"}
	}
	return nil
}

// bearerAuth checks Bearer requests and hands the rest to next (Basic or
// Negotiate). The user is the token's upn, which names the mailbox by its
// SMTP address.
type bearerAuth struct {
	cfg      BearerConfig
	verifier *oauth.Verifier
	next     Authenticator
}

func newBearerAuth(cfg BearerConfig, next Authenticator, now func() time.Time) *bearerAuth {
	if cfg.Audience == "" {
		cfg.Audience = ExchangeOnlineResource
	}
	keys := &oauth.JWKS{URL: cfg.JWKSURL, Client: cfg.Client, MaxAge: cfg.JWKSMaxAge, MinRefresh: time.Second, Now: now}
	return &bearerAuth{cfg: cfg, next: next, verifier: &oauth.Verifier{Keys: keys, Audiences: []string{cfg.Audience}, Now: now}}
}

// errConditionalAccess: the token is used from an untrusted location.
var errConditionalAccess = errors.New("exchange: conditional access: source address not trusted")

// Authenticate implements Authenticator.
func (b *bearerAuth) Authenticate(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if !oauth.IsBearer(h) {
		return b.next.Authenticate(r)
	}
	if !b.sourceAllowed(r) {
		return "", fmt.Errorf("%w: %w", ErrBadCredentials, errConditionalAccess)
	}
	c, err := b.verifier.VerifyHeader(r.Context(), h)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadCredentials, err)
	}
	return c.User(), nil
}

func (b *bearerAuth) sourceAllowed(r *http.Request) bool {
	if len(b.cfg.AllowedSources) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	for _, a := range b.cfg.AllowedSources {
		if a == ap.Addr().Unmap() {
			return true
		}
	}
	return false
}

// Challenges implements Authenticator: Exchange Online's Bearer challenge
// first, then the other authenticator's.
func (b *bearerAuth) Challenges() []string {
	return append([]string{oauth.Challenge(b.cfg.AuthorizationURI, nil)}, b.next.Challenges()...)
}
