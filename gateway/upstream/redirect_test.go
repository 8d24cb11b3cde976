package upstream

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// redirects records OnRedirect calls.
type redirects struct {
	mu   sync.Mutex
	urls map[string]string
	n    int
}

func (rd *redirects) on(_ context.Context, d Device, url string) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.urls == nil {
		rd.urls = map[string]string{}
	}
	rd.urls[d.ID+"/"+d.User] = url
	rd.n++
}

func (rd *redirects) get(key string) (string, int) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	return rd.urls[key], rd.n
}

func TestRDR02_451IsFollowedRememberedAndNotForwarded(t *testing.T) {
	old, moved := newExchange(t, "old", false), newExchange(t, "moved", false)
	loc := moved.srv.URL + "/Microsoft-Server-ActiveSync"
	old.setHandler(func(w http.ResponseWriter, r *http.Request) { eas.Redirect451(w, loc) })
	var seenQuery string
	moved.setHandler(func(w http.ResponseWriter, r *http.Request) {
		seenQuery = r.URL.RawQuery
		w.Write([]byte("moved"))
	})
	rd := &redirects{}
	r := newRouter(t, asConfig(service("default", old)), defaultMgmt(), defaultTimeouts(), Options{OnRedirect: rd.on})
	req, dev := withDevice(easRequest("gw", "Sync", "<sync/>"), stats.NewRegistry())
	resp, body := mustDo(t, r, req)
	if resp.StatusCode != http.StatusOK || body != "moved" {
		t.Fatalf("device got %d %q, want the redirected server's 200", resp.StatusCode, body)
	}
	if resp.Header.Get(eas.HeaderLocation) != "" {
		t.Fatal("X-MS-Location leaked to the device")
	}
	if seenQuery != "Cmd=Sync&User=alice&DeviceId=DEV1&DeviceType=iPhone" {
		t.Fatalf("redirected request query = %q", seenQuery)
	}
	if got, _ := rd.get("DEV1/alice"); got != loc {
		t.Fatalf("OnRedirect got %q, want %q", got, loc)
	}
	if dev.Get(stats.SHTTP451Redirects) != 1 || dev.Get(stats.DHTTP451RedirectDrops) != 1 {
		t.Fatalf("s-http-451-redirects = %d, d-http-451-redirect-drops = %d", dev.Get(stats.SHTTP451Redirects), dev.Get(stats.DHTTP451RedirectDrops))
	}
}

func TestRDR04_RememberedRedirectURLIsUsedAndForgottenWhenItFails(t *testing.T) {
	pool, moved := newExchange(t, "pool", false), newExchange(t, "moved", false)
	rd := &redirects{}
	r := newRouter(t, asConfig(service("default", pool)), defaultMgmt(), defaultTimeouts(), Options{OnRedirect: rd.on})
	req := easRequest("gw", "Sync", "")
	req = req.WithContext(WithDevice(req.Context(), Device{ID: "DEV1", User: "alice", RedirectURL: moved.srv.URL + "/Microsoft-Server-ActiveSync"}))
	if _, body := mustDo(t, r, req); body != "moved" {
		t.Fatalf("remembered redirect not used: %q", body)
	}
	moved.kill()
	req = easRequest("gw", "Sync", "")
	req = req.WithContext(WithDevice(req.Context(), Device{ID: "DEV1", User: "alice", RedirectURL: moved.srv.URL + "/Microsoft-Server-ActiveSync"}))
	if _, body := mustDo(t, r, req); body != "pool" {
		t.Fatalf("failed redirect did not fall back to the pool: %q", body)
	}
	if url, n := rd.get("DEV1/alice"); url != "" || n != 1 {
		t.Fatalf("OnRedirect = %q after %d calls, want it forgotten", url, n)
	}
}

func TestRDR03_451PassesThroughWhenProcessingIsOff(t *testing.T) {
	old := newExchange(t, "old", false)
	old.setHandler(func(w http.ResponseWriter, r *http.Request) {
		eas.Redirect451(w, "https://mail2.example.com/Microsoft-Server-ActiveSync")
	})
	cfg := asConfig(service("default", old))
	cfg.Redirect451 = false
	rd := &redirects{}
	r := newRouter(t, cfg, defaultMgmt(), defaultTimeouts(), Options{OnRedirect: rd.on})
	req, dev := withDevice(easRequest("gw", "Sync", ""), stats.NewRegistry())
	resp, _ := mustDo(t, r, req)
	if resp.StatusCode != eas.HTTPRedirect || resp.Header.Get(eas.HeaderLocation) != "https://mail2.example.com/Microsoft-Server-ActiveSync" {
		t.Fatalf("device got %d %q, want the 451 untouched", resp.StatusCode, resp.Header.Get(eas.HeaderLocation))
	}
	if _, n := rd.get(""); n != 0 || dev.Get(stats.DHTTP451RedirectDrops) != 0 {
		t.Fatal("a passed-through 451 was remembered or counted as dropped")
	}
}

func TestRDR02_RedirectLoopEndsAfterMaxRedirects(t *testing.T) {
	a := newExchange(t, "a", false)
	a.setHandler(func(w http.ResponseWriter, r *http.Request) {
		eas.Redirect451(w, a.srv.URL+"/Microsoft-Server-ActiveSync")
	})
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), defaultTimeouts(), Options{MaxRedirects: 2})
	resp, _ := mustDo(t, r, easRequest("gw", "Sync", ""))
	if resp.StatusCode != eas.HTTPRedirect || r.Counter(stats.SHTTP451Redirects) != 2 {
		t.Fatalf("status %d after %d redirects", resp.StatusCode, r.Counter(stats.SHTTP451Redirects))
	}
}

// plainListener is an http:// server on loopback that records what
// reaches it.
type plainListener struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func newPlainListener(t *testing.T) *plainListener {
	p := &plainListener{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		w.Write([]byte("plain"))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Issue 18, RDR-02: a Server TLS service's 451 to an http:// location was
// followed, the device's credentials sent in clear. It is refused: the
// device gets 502, nothing reaches the http:// listener, the refusal is
// counted and logged without credentials.
func TestRDR02_451ToHTTPFromServerTLSIsRefused(t *testing.T) {
	tlsx, plain := newExchange(t, "tls", true), newPlainListener(t)
	loc := "http://user:pw@" + strings.TrimPrefix(plain.srv.URL, "http://") + "/Microsoft-Server-ActiveSync?token=t0k3n"
	tlsx.setHandler(func(w http.ResponseWriter, r *http.Request) { eas.Redirect451(w, loc) })
	rd := &redirects{}
	logs := &lockedBuffer{}
	r := newRouter(t, asConfig(service("default", tlsx)), defaultMgmt(), defaultTimeouts(),
		Options{OnRedirect: rd.on, Log: slog.New(slog.NewTextHandler(logs, nil))}, tlsx)
	req, dev := withDevice(easRequest("gw", "Sync", "<sync/>"), stats.NewRegistry())
	req.SetBasicAuth("alice", "s3cret-password")
	resp, _ := mustDo(t, r, req)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("device got %d, want 502", resp.StatusCode)
	}
	if n := plain.hits.Load(); n != 0 {
		t.Fatalf("the http:// listener got %d requests", n)
	}
	if url, n := rd.get("DEV1/alice"); url != "" || n != 0 {
		t.Fatalf("the refused location was remembered: %q", url)
	}
	if dev.Get(stats.SHTTP451InsecureRefused) != 1 || r.Counter(stats.SHTTP451InsecureRefused) != 1 {
		t.Fatalf("s-http-451-insecure-redirects-refused = %d", dev.Get(stats.SHTTP451InsecureRefused))
	}
	out := logs.String()
	if !strings.Contains(out, "refused") {
		t.Fatalf("no log line:\n%s", out)
	}
	for _, secret := range []string{"s3cret", "Basic", "pw@", "t0k3n"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, out)
		}
	}
}

// allow_insecure_redirect lets the service follow it, as before.
func TestRDR02_InsecureRedirectFollowedWhenAllowed(t *testing.T) {
	tlsx, plain := newExchange(t, "tls", true), newPlainListener(t)
	tlsx.setHandler(func(w http.ResponseWriter, r *http.Request) {
		eas.Redirect451(w, plain.srv.URL+"/Microsoft-Server-ActiveSync")
	})
	svc := service("default", tlsx)
	svc.AllowInsecureRedirect = true
	r := newRouter(t, asConfig(svc), defaultMgmt(), defaultTimeouts(), Options{}, tlsx)
	if resp, body := mustDo(t, r, easRequest("gw", "Sync", "")); resp.StatusCode != http.StatusOK || body != "plain" || plain.hits.Load() != 1 {
		t.Fatalf("device got %d %q, listener %d hits", resp.StatusCode, body, plain.hits.Load())
	}
}

// RDR-04: a remembered http:// redirect URL of a Server TLS service is
// forgotten, not used; the service's servers answer.
func TestRDR04_RememberedInsecureRedirectIsForgotten(t *testing.T) {
	tlsx, plain := newExchange(t, "tls", true), newPlainListener(t)
	rd := &redirects{}
	r := newRouter(t, asConfig(service("default", tlsx)), defaultMgmt(), defaultTimeouts(), Options{OnRedirect: rd.on}, tlsx)
	req := easRequest("gw", "Sync", "")
	req = req.WithContext(WithDevice(req.Context(), Device{ID: "DEV1", User: "alice", RedirectURL: plain.srv.URL + "/Microsoft-Server-ActiveSync"}))
	if _, body := mustDo(t, r, req); body != "tls" || plain.hits.Load() != 0 {
		t.Fatalf("device got %q, listener %d hits", body, plain.hits.Load())
	}
	if url, n := rd.get("DEV1/alice"); url != "" || n != 1 {
		t.Fatalf("OnRedirect = %q after %d calls, want it forgotten", url, n)
	}
}
