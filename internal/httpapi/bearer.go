package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header. The scheme is case-insensitive (RFC 9110 11.1: "bearer" is as
// good as "Bearer") and the spaces around the token do not count.
func BearerToken(h http.Header) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// BearerMatches reports, in constant time for tokens of want's length,
// whether h carries the bearer token want; an empty want matches nothing.
func BearerMatches(h http.Header, want string) bool {
	tok, ok := BearerToken(h)
	return ok && want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1
}
