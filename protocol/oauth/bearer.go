package oauth

import (
	"errors"
	"fmt"
	"strings"
)

// MaxAuthorization bounds the Authorization header a Bearer token is read
// from; Azure AD access tokens are a few KiB.
const MaxAuthorization = 16 << 10

// Reasons a token is refused; each is one counter and one challenge error.
var (
	ErrNoToken      = errors.New("oauth: no bearer token")
	ErrTooLarge     = errors.New("oauth: Authorization header too large")
	ErrMalformed    = errors.New("oauth: malformed token")
	ErrAlgorithm    = errors.New("oauth: token algorithm not accepted")
	ErrUnknownKey   = errors.New("oauth: token signed with an unknown key")
	ErrSignature    = errors.New("oauth: token signature does not verify")
	ErrExpired      = errors.New("oauth: token expired or not yet valid")
	ErrAudience     = errors.New("oauth: token for another audience")
	ErrNoUser       = errors.New("oauth: token names no user")
	ErrKeysUnusable = errors.New("oauth: the key set cannot be fetched")
)

// Reason names err's refusal in one word, for counters and logs (never
// the token itself).
func Reason(err error) string {
	for _, r := range []struct {
		err  error
		name string
	}{{ErrNoToken, "no_token"}, {ErrTooLarge, "too_large"}, {ErrMalformed, "malformed"}, {ErrAlgorithm, "algorithm"},
		{ErrUnknownKey, "unknown_key"}, {ErrSignature, "signature"}, {ErrExpired, "expired"}, {ErrAudience, "audience"},
		{ErrNoUser, "no_user"}, {ErrKeysUnusable, "keys_unusable"}} {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "invalid"
}

// IsBearer reports whether an Authorization header uses the Bearer scheme.
func IsBearer(authorization string) bool {
	scheme, _, _ := strings.Cut(authorization, " ")
	return strings.EqualFold(scheme, "Bearer")
}

// BearerToken returns the token of a Bearer Authorization header: ErrNoToken
// for another scheme or none, ErrTooLarge past MaxAuthorization, and
// ErrMalformed for anything but the three base64url parts of a JWS.
func BearerToken(authorization string) (string, error) {
	if len(authorization) > MaxAuthorization {
		return "", fmt.Errorf("%w: %d bytes", ErrTooLarge, len(authorization))
	}
	scheme, tok, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoToken
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", ErrNoToken
	}
	if strings.Count(tok, ".") != 2 {
		return "", fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", fmt.Errorf("%w: byte %d is not base64url", ErrMalformed, i)
		}
	}
	return tok, nil
}
