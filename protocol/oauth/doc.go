// Package oauth holds what the gateway and the fakes share of OAuth 2.0 as
// Exchange Online uses it (checklist OAU): the access token's claims, the
// verification of an RS256 JWT against a JSON Web Key Set, the Bearer
// Authorization header and the WWW-Authenticate Bearer challenge, and a
// cached JWKS fetched through an http.Client its caller injects. Signing
// and verification are go-jose's; nothing here is hand-written crypto.
package oauth
