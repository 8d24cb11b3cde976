package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
)

// OAuthConfig makes a device sign in with OAuth (modern authentication)
// instead of sending Basic credentials: iOS native mail (Platform IOS,
// Class Native), iOS and Android Email+ (Class SecureApp) (OAU-06). It
// signs in with its User and Password on the sign-in form, with the code
// flow and PKCE, refreshes its access token when it expires, and on a 401
// refreshes (or signs in again) and retries once.
type OAuthConfig struct {
	// AuthorityURL is the sign-in base: its /oauth2/authorize and
	// /oauth2/token are used. Through a gateway it is
	// https://<SentryHostname>/proxyservice (OAU-05's
	// modern_auth_authority_url).
	AuthorityURL string
	// Resource is what the device asks a token for: through a gateway
	// https://<SentryHostname> (OAU-05's modern_auth_resource_url).
	Resource string
	// ClientID and RedirectURI default to the client class's.
	ClientID, RedirectURI string
}

// oauthClient is a device's OAuth state.
type oauthClient struct {
	conf     *oauth2.Config
	resource string
	hc       *http.Client // the device's, not following the app redirect

	mu        sync.Mutex
	token     *oauth2.Token
	signIns   int
	refreshes int
}

// ErrSignIn: the device could not sign in (wrong password, refused by
// conditional access, IdP unreachable).
var ErrSignIn = errors.New("device: OAuth sign-in failed")

func newOAuthClient(cfg Config, hc *http.Client) *oauthClient {
	o := cfg.OAuth
	id, redirect := o.ClientID, o.RedirectURI
	if id == "" {
		id, redirect = "ios-mail", "com.apple.mobilemail://oauth-redirect"
		if cfg.Class == SecureApp {
			id, redirect = "email-plus-"+strings.ToLower(string(cfg.Platform)), "com.mobileiron.emailplus://oauth"
		}
	}
	if o.RedirectURI != "" {
		redirect = o.RedirectURI
	}
	base := strings.TrimSuffix(o.AuthorityURL, "/")
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &oauthClient{resource: o.Resource, hc: &noFollow, conf: &oauth2.Config{ClientID: id, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: base + "/oauth2/authorize", TokenURL: base + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}}
}

// SignIn signs the device in afresh (the code flow with PKCE); devices
// with OAuth also do so by themselves when they need a token.
func (d *Device) SignIn(ctx context.Context) error {
	if d.oauth == nil {
		return errors.New("device: no OAuth configured")
	}
	o := d.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	return d.signInLocked(ctx)
}

func (d *Device) signInLocked(ctx context.Context) error {
	o := d.oauth
	verifier := oauth2.GenerateVerifier()
	u := o.conf.AuthCodeURL(d.cfg.ID, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", o.resource))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(url.Values{"login": {d.cfg.User}, "passwd": {d.cfg.Password}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", d.cfg.UserAgent())
	resp, err := o.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignIn, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		reason := resp.Status
		if loc != nil && loc.Query().Get("error") != "" {
			reason = loc.Query().Get("error")
		}
		return fmt.Errorf("%w: %s", ErrSignIn, reason)
	}
	tok, err := o.conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, o.hc), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignIn, err)
	}
	o.token = tok
	o.signIns++
	return nil
}

// authorization is the Authorization header of the next request: Basic,
// or a bearer token (signing in or refreshing first when needed).
func (d *Device) authorization(ctx context.Context) (string, error) {
	o := d.oauth
	if o == nil {
		return d.auth, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.token == nil {
		if err := d.signInLocked(ctx); err != nil {
			return "", err
		}
	}
	if !o.token.Valid() {
		tok, err := o.conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, o.hc), o.token).Token()
		if err != nil {
			// The refresh token is gone too: sign in again.
			if err := d.signInLocked(ctx); err != nil {
				return "", err
			}
		} else {
			o.token = tok
			o.refreshes++
		}
	}
	return "Bearer " + o.token.AccessToken, nil
}

// tokenRefused marks the access token unusable after a 401, so the next
// request refreshes; it reports whether the device uses OAuth.
func (d *Device) tokenRefused() bool {
	o := d.oauth
	if o == nil {
		return false
	}
	o.mu.Lock()
	if o.token != nil {
		t := *o.token
		t.AccessToken = "" // invalid: TokenSource refreshes it
		o.token = &t
	}
	o.mu.Unlock()
	return true
}

// OAuthCounts returns how often the device signed in and refreshed.
func (d *Device) OAuthCounts() (signIns, refreshes int) {
	if d.oauth == nil {
		return 0, 0
	}
	d.oauth.mu.Lock()
	defer d.oauth.mu.Unlock()
	return d.oauth.signIns, d.oauth.refreshes
}
