package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// box holds what a server received, for the test goroutine.
type box struct{ v atomic.Pointer[string] }

func (b *box) set(s string) { b.v.Store(&s) }

func (b *box) get() string {
	if p := b.v.Load(); p != nil {
		return *p
	}
	return ""
}

// hangUp makes a server read the request and drop the connection without
// answering, as a server dying mid-request does.
func hangUp(x *exchange, got *box) {
	x.setHandler(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.set(string(b))
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	})
}

func TestFailoverResendsTheBufferedBodyToTheNextServer(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	var atA, atB box
	hangUp(a, &atA)
	b.setHandler(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		atB.set(string(body))
		w.Write([]byte("b"))
	})
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{})
	if _, body := mustDo(t, r, easRequest("gw", "SendMail", "the whole message")); body != "b" {
		t.Fatalf("answered by %q", body)
	}
	if atA.get() != "the whole message" || atB.get() != "the whole message" {
		t.Fatalf("a got %q, b got %q", atA.get(), atB.get())
	}
	if st := serverStatus(t, r, "default", a.addr()); st.FailureCount != 1 {
		t.Fatalf("a failures = %d", st.FailureCount)
	}
}

func TestFailoverNeverResendsABodyTooLargeToReplay(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	var atA box
	hangUp(a, &atA)
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{MaxReplayBody: 16})
	big := strings.Repeat("x", 100)
	if _, _, err := do(t, r, easRequest("gw", "SendMail", big)); err == nil {
		t.Fatal("no error")
	}
	if atA.get() != big || b.hits.Load() != 0 {
		t.Fatalf("a got %d bytes, b hits %d: want the one attempt only", len(atA.get()), b.hits.Load())
	}
}

func TestFailoverStopsWhenTheDeviceGoesAway(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	ctx, cancel := context.WithCancel(context.Background())
	a.setHandler(func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{})
	req := easRequest("gw", "Ping", "").WithContext(ctx)
	if _, _, err := do(t, r, req); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if b.hits.Load() != 0 || serverStatus(t, r, "default", a.addr()).FailureCount != 0 {
		t.Fatal("a device hanging up was retried or blamed on the server")
	}
}

func TestFailoverWithEveryServerDeadIsErrNoServer(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{})
	a.kill()
	b.kill()
	if _, _, err := do(t, r, easRequest("gw", "Sync", "")); !errors.Is(err, ErrNoServer) {
		t.Fatalf("err = %v", err)
	}
}
