package upstream

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// closesKeptAlive answers the first request on each connection and closes
// the connection, unanswered, when a second request comes on it: a
// server whose keep-alive timer fired as the request arrived, too late
// for the pool's probe to see the close before the request went out.
func closesKeptAlive() http.HandlerFunc {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		again := seen[r.RemoteAddr]
		seen[r.RemoteAddr] = true
		mu.Unlock()
		if again {
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			return
		}
		fmt.Fprintf(w, "got %s", body)
	}
}

// A request that meets a kept-alive connection the server closed
// unanswered is sent again on a new connection (the lean path; the
// Transport fails a POST so): the device gets its answer and the server
// no failure. A request on a new connection is not sent again.
func TestH1PoolResendsWhatAStaleConnectionLost(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			tw := newTwin(t, useTLS)
			tw.x.setHandler(closesKeptAlive())
			for i := range 3 {
				o := send(t, tw.lean, &tw.dials[0], "Sync", fmt.Sprintf("<sync%d/>", i), nil)
				if o.Err != "" || o.Body != fmt.Sprintf("got <sync%d/>", i) {
					t.Fatalf("request %d: %+v, want its answer", i, o)
				}
				if want := fmt.Sprintf("s-connections=%d ", i+1); o.Counters != want {
					t.Errorf("request %d: counters %q, want %q (no failure)", i, o.Counters, want)
				}
			}
			if st := serverStatus(t, tw.lean, "default", tw.x.addr()); st.FailureCount != 0 {
				t.Errorf("server health %+v, want no failure", st)
			}
			// The Transport's rule for a POST: not sent again.
			send(t, tw.std, &tw.dials[1], "Sync", "a", nil)
			if o := send(t, tw.std, &tw.dials[1], "Sync", "b", nil); o.Err == "" {
				t.Errorf("Transport: %+v, want the lost connection's error", o)
			}
		})
	}
	t.Run("new connection", func(t *testing.T) {
		tw := newTwin(t, false)
		tw.x.setHandler(func(w http.ResponseWriter, r *http.Request) {
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		})
		o := send(t, tw.lean, &tw.dials[0], "Sync", "x", nil)
		if o.Err == "" || o.Dials != 1 || !strings.Contains(o.Counters, "s-so-close=1") {
			t.Errorf("%+v, want one connection and its error", o)
		}
	})
}
