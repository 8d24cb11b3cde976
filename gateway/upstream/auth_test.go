package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
)

// tokenAuth hands out "Token <host>#<n>" credentials, n counting fresh
// credentials per host, and records what it was asked.
type tokenAuth struct {
	mu       sync.Mutex
	issued   map[string]int
	asked    []string
	refused  []string
	retries  int // how many Refused may ask again
	failHost string
}

func (a *tokenAuth) Authorize(_ context.Context, out *http.Request, host string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, host)
	if host == a.failHost {
		return errors.New("the KDC refused")
	}
	if a.issued == nil {
		a.issued = map[string]int{}
	}
	a.issued[host]++
	out.Header.Set("Authorization", "Token "+host+"#"+string(rune('0'+a.issued[host])))
	return nil
}

func (a *tokenAuth) Refused(_ context.Context, host string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refused = append(a.refused, host)
	if a.retries == 0 {
		return false
	}
	a.retries--
	return true
}

// withAuth is a device request carrying an Authorizer.
func withAuth(req *http.Request, auth Authorizer) *http.Request {
	return req.WithContext(WithDevice(req.Context(), Device{ID: "DEV1", User: "alice", Auth: auth}))
}

// echoAuth answers with the Authorization the server got, or 401 for
// the credentials listed in refuse.
func echoAuth(x *exchange, refuse ...string) {
	x.setHandler(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got := r.Header.Get("Authorization")
		for _, bad := range refuse {
			if got == bad {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		io.WriteString(w, got)
	})
}

func TestKRB02_CredentialsFollowTheServerAFailoverChose(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	var atA box
	hangUp(a, &atA)
	echoAuth(b)
	auth := &tokenAuth{}
	req := easRequest("gw", "Sync", "body")
	req.Header.Set("Authorization", "Basic ZGV2aWNlOnB3") // the device's own: never sent
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{})
	if _, body := mustDo(t, r, withAuth(req, auth)); body != "Token "+b.addr()+"#1" {
		t.Fatalf("b got Authorization %q, want its own credentials", body)
	}
	if len(auth.asked) != 2 || auth.asked[0] != a.addr() || auth.asked[1] != b.addr() {
		t.Fatalf("credentials asked for %v, want a then b", auth.asked)
	}
	if req.Header.Get("Authorization") != "Basic ZGV2aWNlOnB3" {
		t.Fatal("the device's request headers were changed")
	}
}

func TestKRB16_A401GetsOneRetryWithFreshCredentials(t *testing.T) {
	x := newExchange(t, "x", false)
	r := newRouter(t, asConfig(service("default", x)), defaultMgmt(), defaultTimeouts(), Options{})

	// The first credentials are stale: purged, fresh ones accepted.
	echoAuth(x, "Token "+x.addr()+"#1")
	auth := &tokenAuth{retries: 1}
	resp, body := mustDo(t, r, withAuth(easRequest("gw", "SendMail", "mail"), auth))
	if resp.StatusCode != http.StatusOK || body != "Token "+x.addr()+"#2" || len(auth.refused) != 1 {
		t.Fatalf("HTTP %d %q, refused %v: want the retry with fresh credentials to pass", resp.StatusCode, body, auth.refused)
	}
	// Refused twice: only one retry, and the device gets the 401.
	echoAuth(x, "Token "+x.addr()+"#1", "Token "+x.addr()+"#2")
	auth = &tokenAuth{retries: 1}
	resp, _ = mustDo(t, r, withAuth(easRequest("gw", "Sync", ""), auth))
	if resp.StatusCode != http.StatusUnauthorized || len(auth.asked) != 2 || len(auth.refused) != 2 {
		t.Fatalf("HTTP %d, asked %v, refused %v: want one retry then the 401", resp.StatusCode, auth.asked, auth.refused)
	}
}

func TestAuthorizerFailureIsNotTheServersFault(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	echoAuth(b)
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{})
	auth := &tokenAuth{failHost: a.addr()}
	_, _, err := do(t, r, withAuth(easRequest("gw", "Sync", ""), auth))
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Addr != a.addr() {
		t.Fatalf("error %v, want an AuthError for a", err)
	}
	if len(auth.asked) != 1 || a.hits.Load() != 0 || b.hits.Load() != 0 {
		t.Fatalf("asked %v, a hits %d, b hits %d: no server should be tried", auth.asked, a.hits.Load(), b.hits.Load())
	}
	if st := serverStatus(t, r, "default", a.addr()); st.FailureCount != 0 {
		t.Fatalf("a failures = %d", st.FailureCount)
	}
}
