// Package idp is a fake identity provider with the Azure AD v1 endpoints
// the seeds name (/common/oauth2/authorize, /common/oauth2/token): the
// authorization code grant with PKCE and refresh tokens, RS256 access
// tokens with a kid, aud = the requested resource and upn / unique_name,
// a JWKS (/common/discovery/keys), a conditional-access rule that refuses
// every source address but the gateway's (OAU-07), and faults (down,
// slow through fakes/faults; expired or wrongly signed tokens, key
// rotation of its own). Start it on 127.0.0.1:0 and read the URLs back.
package idp

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"
)

// User is an account that can sign in: the fake Exchange's mailbox users
// (the lab passes them over). Name is the logon name; the UPN is
// Name@Domain.
type User struct {
	Name     string
	Password string
}

// Config configures the fake IdP. New validates it once.
type Config struct {
	// Addr is where the endpoints listen; default 127.0.0.1:0 (loopback
	// only unless AllowNonLoopback).
	Addr             string
	AllowNonLoopback bool
	// Domain makes the UPN name@Domain; default example.test (the fake
	// Exchange's).
	Domain string
	Users  []User
	// Resources the IdP issues tokens for (aud); a request for another is
	// refused as Azure AD does (AADSTS500011). Default
	// https://outlook.office365.com.
	Resources []string
	// AllowedSources is the conditional-access rule (OAU-07): when set,
	// sign-in and token requests from any other source address are
	// refused (AADSTS53003). Empty: every address may sign in.
	AllowedSources []netip.Addr
	// TokenTTL is the access token lifetime, default 1 h; RefreshTTL the
	// refresh token's, default 24 h; CodeTTL the authorization code's,
	// default 5 min.
	TokenTTL, RefreshTTL, CodeTTL time.Duration
	// Seed makes the fault toxicity rolls reproducible.
	Seed   uint64
	Logger *slog.Logger
	Now    func() time.Time
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Domain == "" {
		c.Domain = "example.test"
	}
	if len(c.Resources) == 0 {
		c.Resources = []string{"https://outlook.office365.com"}
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = time.Hour
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 24 * time.Hour
	}
	if c.CodeTTL == 0 {
		c.CodeTTL = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// ConfigError names the field that is wrong.
type ConfigError struct{ Field, Msg string }

func (e *ConfigError) Error() string { return "idp: config " + e.Field + ": " + e.Msg }

func (c *Config) validate() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return &ConfigError{"Addr", err.Error()}
	}
	if ip, err := netip.ParseAddr(host); !c.AllowNonLoopback && (err != nil || !ip.IsLoopback()) && host != "localhost" {
		return &ConfigError{"Addr", fmt.Sprintf("%q is not a loopback address (set AllowNonLoopback)", host)}
	}
	if c.TokenTTL < time.Second || c.RefreshTTL < c.TokenTTL || c.CodeTTL < time.Second {
		return &ConfigError{"TokenTTL", "need 1 s <= TokenTTL <= RefreshTTL and CodeTTL >= 1 s"}
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		k := strings.ToLower(u.Name)
		if u.Name == "" || u.Password == "" || strings.ContainsAny(u.Name, "@\\:/ ") || seen[k] {
			return &ConfigError{fmt.Sprintf("Users[%d]", i), "needs a unique Name (no @, \\, :, / or space) and a Password"}
		}
		seen[k] = true
	}
	for i, r := range c.Resources {
		if !strings.HasPrefix(r, "https://") {
			return &ConfigError{fmt.Sprintf("Resources[%d]", i), "must be an https:// URI"}
		}
	}
	return nil
}
