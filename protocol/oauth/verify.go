package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// KeySource finds the verification key a token's kid names (a JWKS).
type KeySource interface {
	// Key returns the public key of kid, or an error wrapping ErrUnknownKey
	// or ErrKeysUnusable.
	Key(ctx context.Context, kid string) (*jose.JSONWebKey, error)
}

// Verifier checks access tokens: RS256 only, signed by a key of Keys,
// within their lifetime, for one of Audiences, naming a user.
type Verifier struct {
	Keys KeySource
	// Audiences accepted; a trailing "/" is ignored on both sides
	// (OAU-02 writes https://outlook.office365.com both ways).
	Audiences []string
	// Leeway allowed on exp/nbf/iat; default 0 (Exchange Online allows
	// some minutes; the fakes and tests want exactness).
	Leeway time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// accepted is the one signature algorithm taken: a token claiming
// "none", HS256 (a public key as HMAC secret) or any other is refused by
// go-jose before a key is looked at.
var accepted = []jose.SignatureAlgorithm{jose.RS256}

// Verify checks raw (a compact JWS) and returns its claims.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	tok, err := jwt.ParseSigned(raw, accepted)
	if err != nil {
		if strings.Contains(err.Error(), "unexpected signature algorithm") {
			return Claims{}, fmt.Errorf("%w: %v", ErrAlgorithm, err)
		}
		return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return Claims{}, fmt.Errorf("%w: no kid", ErrMalformed)
	}
	key, err := v.Keys.Key(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return Claims{}, err
	}
	var c Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return Claims{}, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if c.Expiry == nil {
		return Claims{}, fmt.Errorf("%w: no exp", ErrExpired)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Time: now()}, v.Leeway); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrExpired, err)
	}
	if !v.audienceOK(c.Audience) {
		return Claims{}, fmt.Errorf("%w: %v", ErrAudience, []string(c.Audience))
	}
	if c.User() == "" {
		return Claims{}, ErrNoUser
	}
	return c, nil
}

func (v *Verifier) audienceOK(aud jwt.Audience) bool {
	for _, a := range aud {
		for _, want := range v.Audiences {
			if SameResource(a, want) {
				return true
			}
		}
	}
	return false
}

// SameResource compares two resource URIs as Azure AD does for v1
// resources: case-insensitively, a trailing "/" ignored.
func SameResource(a, b string) bool {
	a, b = strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/")
	return a != "" && strings.EqualFold(a, b)
}

// VerifyHeader reads the Bearer token of an Authorization header and
// verifies it: the entry point for a request.
func (v *Verifier) VerifyHeader(ctx context.Context, authorization string) (Claims, error) {
	tok, err := BearerToken(authorization)
	if err != nil {
		return Claims{}, err
	}
	return v.Verify(ctx, tok)
}
