package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
)

// tokenResponse is Azure AD v1's token response.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int64  `json:"expires_in"`
	ExpiresOn    int64  `json:"expires_on"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// scope is what Exchange Online grants a mail client.
const scope = "EAS.AccessAsUser.All"

// serveToken is the token endpoint: authorization_code (with the PKCE
// verifier) and refresh_token grants.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: the request body must be a form")
		return
	}
	if !s.allowedSource(r) {
		s.counts.caRefusals.Add(1)
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS53003: Access has been blocked by Conditional Access policies.")
		return
	}
	f := r.PostForm
	now := s.cfg.Now()
	var g grant
	switch f.Get("grant_type") {
	case "authorization_code":
		c, ok := s.grants.redeem(f.Get("code"), now)
		if !ok || c.clientID != f.Get("client_id") || c.redirectURI != f.Get("redirect_uri") || !pkceOK(c.challenge, f.Get("code_verifier")) {
			s.counts.badGrants.Add(1)
			tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: the code is invalid, expired, or the verifier or redirect_uri does not match")
			return
		}
		g = c
	case "refresh_token":
		rt, ok := s.grants.lookupRefresh(f.Get("refresh_token"), now)
		if !ok || rt.clientID != f.Get("client_id") {
			s.counts.badGrants.Add(1)
			tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS700082: the refresh token has expired or is invalid")
			return
		}
		g = rt
		s.counts.refreshes.Add(1)
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: authorization_code and refresh_token are supported")
		return
	}
	if res := f.Get("resource"); res != "" {
		// A v1 refresh token is good for any resource; a code for the
		// one it was issued for.
		if !s.knownResource(res) || (f.Get("grant_type") == "authorization_code" && !oauth.SameResource(res, g.resource)) {
			s.counts.badGrants.Add(1)
			tokenError(w, http.StatusBadRequest, "invalid_resource", "AADSTS500011: The resource principal named "+res+" was not found.")
			return
		}
		g.resource = res
	}
	s.issue(w, r, g, now)
}

func (s *Server) issue(w http.ResponseWriter, r *http.Request, g grant, now time.Time) {
	fl := s.faults.Get()
	exp := now.Add(s.cfg.TokenTTL)
	claimedExp := exp // what the answer's expires_in says
	if fl.ExpiredTokens {
		// The token is expired, but the answer still says expires_in =
		// TokenTTL, as a client with a skewed clock would read it: the
		// client learns of the expiry only from the resource's 401.
		exp = now.Add(-time.Minute)
	}
	upn := g.user + "@" + s.cfg.Domain
	ip := ""
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		ip = ap.Addr().Unmap().String()
	}
	sub := sha256.Sum256([]byte(strings.ToLower(upn)))
	c := oauth.Claims{Claims: jwt.Claims{ID: randomToken()[:22], Issuer: s.Issuer(), Subject: base64.RawURLEncoding.EncodeToString(sub[:16]),
		Audience: jwt.Audience{g.resource}, IssuedAt: jwt.NewNumericDate(now.Add(-2 * time.Minute)),
		NotBefore: jwt.NewNumericDate(now.Add(-2 * time.Minute)), Expiry: jwt.NewNumericDate(exp)},
		UPN: upn, UniqueName: upn, AppID: g.clientID, IPAddr: ip, Scope: scope}
	var at string
	key, err := s.keys.signing(fl.WrongKey)
	if err == nil {
		at, err = oauth.Sign(key, c)
	}
	if err != nil {
		s.log.Error("sign access token", "error", err)
		tokenError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	g.until, g.challenge = now.Add(s.cfg.RefreshTTL), ""
	rt := s.grants.newRefresh(g)
	s.counts.tokens.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(tokenResponse{TokenType: "Bearer", Scope: scope, ExpiresIn: int64(claimedExp.Sub(now) / time.Second),
		ExpiresOn: claimedExp.Unix(), Resource: g.resource, AccessToken: at, RefreshToken: rt})
}

// pkceOK checks an S256 code_verifier against the challenge (RFC 7636).
func pkceOK(challenge, verifier string) bool {
	if challenge == "" || len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
