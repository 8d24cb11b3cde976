package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
)

// sessions: the page trades the lab's admin token (typed in, or taken
// from the URL fragment) for an HttpOnly, SameSite=Strict cookie holding
// a random session id; the token itself never travels in a URL.
type sessions struct {
	token string
	mu    sync.Mutex
	ids   map[string]bool
}

const cookieName = "gatehouse_dashboard"

func newSessions(token string) *sessions { return &sessions{token: token, ids: map[string]bool{}} }

func (a *sessions) valid(r *http.Request) bool {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ids[c.Value]
}

// sameOrigin refuses a state-changing request another site's page sent
// (the cookie is SameSite=Strict too; this covers older browsers).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (a *sessions) require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.valid(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in with the lab's admin token"})
			return
		}
		if r.Method != http.MethodGet && !sameOrigin(r) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// handleSession says whether the browser is signed in (200 either way,
// so that a fresh page shows its login form without a failed request).
func (a *sessions) handleSession(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]bool{"authenticated": a.valid(r)})
}

func (a *sessions) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Token string `json:"token"`
	}
	if !sameOrigin(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
		return
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request"})
		return
	}
	if subtle.ConstantTimeCompare([]byte(req.Token), []byte(a.token)) != 1 {
		writeJSON(w, http.StatusOK, map[string]any{"authenticated": false, "error": "wrong token"})
		return
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	a.mu.Lock()
	a.ids[id] = true
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]bool{"authenticated": true})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
