package upstream

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// A new connection to a server the gateway has talked to resumes the TLS
// session instead of a full handshake: bursts of devices open many server
// connections at once.
func TestNewServerConnectionsResumeTLSSessions(t *testing.T) {
	x := newExchange(t, "a", true)
	var resumed, full atomic.Int32
	x.setHandler(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.DidResume {
			resumed.Add(1)
		} else {
			full.Add(1)
		}
		w.Header().Set("Connection", "close") // the next request needs a new connection
	})
	r := newRouter(t, asConfig(service("default", x)), defaultMgmt(), defaultTimeouts(), Options{}, x)
	for i := 0; i < 3; i++ {
		resp, _, err := do(t, r, easRequest("gw.example.com", "Sync", ""))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %v %v", i, resp, err)
		}
	}
	if full.Load() != 1 || resumed.Load() != 2 {
		t.Fatalf("full handshakes %d, resumed %d; want 1 and 2", full.Load(), resumed.Load())
	}
}
