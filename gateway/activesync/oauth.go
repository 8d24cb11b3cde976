package activesync

import (
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/identity"
	"github.com/gatehouse-lab/gatehouse/gateway/oauth"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	poauth "github.com/gatehouse-lab/gatehouse/protocol/oauth"
)

// SetOAuth turns OAuth pass-through on with g (OAU-01); nil turns it off,
// and a bearer token is then no credential the gateway names a user from.
func (h *Handler) SetOAuth(g *oauth.Gate) { h.oauth.Store(g) }

// OAuth returns the OAuth configuration in force, nil when off.
func (h *Handler) OAuth() *oauth.Gate { return h.oauth.Load() }

// bearerRequest: OAuth is on and the request carries a bearer token.
func (h *Handler) bearerRequest(r *http.Request) bool {
	return h.oauth.Load() != nil && oauth.IsBearer(r.Header.Get("Authorization"))
}

// identifyBearer names the user of a bearer request from the token the
// gateway validated itself (signature against the IdP's keys, audience,
// lifetime): the token's upn, never the query. A token refused for any
// reason is answered 401 with a Bearer challenge pointing at the
// gateway's sign-in URL, counted, and never relayed to Exchange.
func (h *Handler) identifyBearer(w http.ResponseWriter, r *http.Request, info *eas.RequestInfo) (who, bool) {
	g := h.oauth.Load()
	u, err := g.User(r.Context(), r.Header.Get("Authorization"))
	if err == nil {
		if n, nerr := identity.Normalize(u); nerr == nil {
			return who{user: n, byToken: true}, true
		}
		err = poauth.ErrNoUser
	}
	h.cfg.Log.Info("bearer token refused", "device", info.Query.DeviceID, "reason", poauth.Reason(err))
	h.unauthenticated(w, g.Challenges(r, err))
	return who{}, false
}

// noCredentialChallenges are the challenges of a request without
// credentials: with OAuth on, Bearer pointing at the gateway (and Basic
// beside it when Pass Through Basic is on too); nil is Basic alone.
func (h *Handler) noCredentialChallenges(r *http.Request) []string {
	if g := h.oauth.Load(); g != nil {
		return g.Challenges(r, nil)
	}
	return nil
}

// rewriteChallenges points Exchange's Bearer challenges at the gateway
// so the device signs in through it.
func (h *Handler) rewriteChallenges(r *http.Request, challenges []string) []string {
	if g := h.oauth.Load(); g != nil && len(challenges) > 0 {
		return g.RewriteChallenges(r, challenges)
	}
	return challenges
}

// challengeWriter rewrites the Bearer challenges of a relayed 401 (OAU:
// Exchange names its IdP; the device must come back to the gateway).
type challengeWriter struct {
	http.ResponseWriter
	h *Handler
	r *http.Request
}

func (c *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized {
		hdr := c.ResponseWriter.Header()
		if v := hdr.Values("WWW-Authenticate"); len(v) > 0 {
			hdr["Www-Authenticate"] = c.h.rewriteChallenges(c.r, v)
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// withChallengeRewrite wraps w only while OAuth is on: no cost otherwise.
func (h *Handler) withChallengeRewrite(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if h.oauth.Load() == nil {
		return w
	}
	return &challengeWriter{ResponseWriter: w, h: h, r: r}
}
