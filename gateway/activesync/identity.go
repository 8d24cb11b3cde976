package activesync

import (
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/identity"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// basicChallenge is the challenge of a request that carries no credentials
// the gateway can name a user from. ActiveSync clients answer a Basic
// challenge with the account's credentials.
const basicChallenge = `Basic realm="ActiveSync", charset="UTF-8"`

// who is the user a request is authenticated as: the key of the device
// cache, the statistics and the UEM, never what the query claims
// (DESIGN.md, Identity).
type who struct {
	// user is the authenticated user, normalised by identity.Normalize.
	user string
	// upn is the identity certificate's UPN as issued, for Kerberos
	// constrained delegation; empty without a certificate identity.
	upn string
	// byCert: the device certificate authenticated the user (Identity
	// Certificate, Trusted Front-End), so Exchange need not be asked.
	// Otherwise the user is the Basic user name, which Exchange has yet
	// to accept (admission.go).
	byCert bool
	// byToken: the gateway validated the device's OAuth bearer token,
	// which names the user (oauth.go); Exchange need not be asked.
	byToken bool
}

// identify names the user of r: the identity certificate's UPN in the
// modes that map one, else the Basic user name (Pass Through and Group
// Certificate, where the user's credentials go to Exchange). It refuses,
// writing the answer itself and reporting false:
//   - 403 when certificate device authentication fails (as before);
//   - 401 with a Basic challenge when there are no credentials to name a
//     user from (none, not Basic, or an empty user name);
//   - 400 when the Basic user name holds control characters or is too long;
//   - 400 and identity-mismatch when the query's User, or a Basic user next
//     to a certificate identity, is another user than the authenticated one.
func (h *Handler) identify(w http.ResponseWriter, r *http.Request, info *eas.RequestInfo) (who, bool) {
	var id who
	if a := h.auth.Load(); a != nil {
		cert, err := a.Authenticate(r)
		if err != nil {
			h.cfg.Log.Info("device authentication failed", "device", info.Query.DeviceID, "error", err)
			http.Error(w, "device authentication failed", http.StatusForbidden)
			return who{}, false
		}
		if cert != nil && cert.UPN != "" {
			u, err := identity.Normalize(cert.UPN)
			if err != nil {
				h.cfg.Log.Info("device certificate names no usable user", "device", info.Query.DeviceID, "error", err)
				http.Error(w, "device authentication failed", http.StatusForbidden)
				return who{}, false
			}
			id = who{user: u, upn: cert.UPN, byCert: true}
		}
	}
	if !id.byCert && h.bearerRequest(r) {
		var ok bool
		if id, ok = h.identifyBearer(w, r, info); !ok {
			return who{}, false
		}
	}
	basic, _, hasBasic := r.BasicAuth()
	switch {
	case id.byToken:
	case id.byCert:
		// A Basic user next to the certificate must be the same user:
		// without Kerberos delegation those credentials reach Exchange.
		if hasBasic && basic != "" && !h.sameUser(basic, id.user) {
			h.mismatch(w, info, "the Basic user is not the certificate's user")
			return who{}, false
		}
	case !hasBasic || basic == "":
		h.unauthenticated(w, h.noCredentialChallenges(r))
		return who{}, false
	default:
		u, err := identity.Normalize(basic)
		if err != nil {
			http.Error(w, "bad user name in the Basic credentials: "+err.Error(), http.StatusBadRequest)
			return who{}, false
		}
		id.user = u
	}
	if q := info.Query.User; q != "" && !h.sameUser(q, id.user) {
		h.mismatch(w, info, "the query's User is not the authenticated user")
		return who{}, false
	}
	return id, true
}

// sameUser reports whether the spelling claimed names the normalised user.
func (h *Handler) sameUser(claimed, user string) bool {
	n, err := identity.Normalize(claimed)
	return err == nil && n == user
}

// mismatch refuses a request whose claimed user is not the authenticated
// one: alice's password must not sync under bob's record (issue 18).
func (h *Handler) mismatch(w http.ResponseWriter, info *eas.RequestInfo, why string) {
	h.countGlobal(stats.IdentityMismatch)
	h.cfg.Log.Info("identity mismatch refused", "device", info.Query.DeviceID, "reason", why)
	http.Error(w, "ActiveSync request for another user than the authenticated one", http.StatusBadRequest)
}

// unauthenticated answers 401 with Exchange's challenges when it gave
// some, else a Basic challenge, and keeps nothing of the request.
func (h *Handler) unauthenticated(w http.ResponseWriter, challenges []string) {
	h.countGlobal(stats.DUnauthenticated)
	if len(challenges) == 0 {
		challenges = []string{basicChallenge}
	}
	for _, c := range challenges {
		w.Header().Add("WWW-Authenticate", c)
	}
	http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
}

// countGlobal counts a refusal in the global sums only: a request refused
// before it was authenticated leaves no per-device row.
func (h *Handler) countGlobal(c stats.Counter) {
	if h.cfg.Stats != nil {
		h.cfg.Stats.IncGlobal(c)
	}
}
