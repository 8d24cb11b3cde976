package oauth

import (
	"strings"
)

// Challenge is the WWW-Authenticate value Exchange Online answers a request
// without a usable token with: where to sign in, and for an invalid token
// the RFC 6750 error.
func Challenge(authorizationURI string, err error) string {
	var b strings.Builder
	b.WriteString(`Bearer authorization_uri="`)
	b.WriteString(quoteSafe(authorizationURI))
	b.WriteString(`"`)
	if err != nil && !isNoToken(err) {
		b.WriteString(`, error="invalid_token", error_description="`)
		b.WriteString(quoteSafe(Reason(err)))
		b.WriteString(`"`)
	}
	return b.String()
}

func isNoToken(err error) bool { return Reason(err) == "no_token" }

func quoteSafe(s string) string {
	return strings.NewReplacer(`"`, "", `\`, "", "\r", "", "\n", "").Replace(s)
}

// ChallengeURI returns the authorization_uri of a Bearer challenge, and
// whether c is one.
func ChallengeURI(c string) (string, bool) {
	if !IsBearer(c) {
		return "", false
	}
	const key = `authorization_uri="`
	i := strings.Index(c, key)
	if i < 0 {
		return "", true
	}
	rest := c[i+len(key):]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return "", true
	}
	return rest[:j], true
}

// WithChallengeURI returns the Bearer challenge c with its authorization_uri
// replaced by uri (the gateway's sign-in URL); other challenges unchanged.
func WithChallengeURI(c, uri string) string {
	old, ok := ChallengeURI(c)
	if !ok {
		return c
	}
	if old == "" && !strings.Contains(c, "authorization_uri=") {
		out := `Bearer authorization_uri="` + quoteSafe(uri) + `"`
		if rest := strings.TrimSpace(c[len("Bearer"):]); rest != "" {
			out += ", " + rest
		}
		return out
	}
	return strings.Replace(c, `authorization_uri="`+old+`"`, `authorization_uri="`+quoteSafe(uri)+`"`, 1)
}
