package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// hangingUEM accepts every request and answers none until the test ends,
// counting the configuration fetches it holds.
func hangingUEM(t *testing.T) (url string, configCalls *atomic.Int32) {
	configCalls = new(atomic.Int32)
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == uemapi.PathConfig {
			configCalls.Add(1)
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: frees the held handlers
	return srv.URL, configCalls
}

// DC-03 beside a UEM that hangs: the gateway starts on its persistent
// list after one call timeout without a page, and does not then wait on
// the configuration fetch too (30 s) — the configuration last received
// applies until the UEM answers. The blocked device stays blocked.
// Found by gatehouse chaos in subprocess mode (seeds 5046, 5055).
func TestDC03_StartBesideAHangingUEMUsesTheListAndTheKeptConfiguration(t *testing.T) {
	w := newWorld(t)
	w.blockDevice("BOBPHONE", "bob")
	w.stopGateway()

	url, configCalls := hangingUEM(t)
	w.gwBoot = func(c *gateway.Config) {
		c.UEM.URL = url
		c.UEM.CallTimeout = 200 * time.Millisecond
	}
	w.startGateway(false)
	if n := configCalls.Load(); n != 0 {
		t.Errorf("the start asked the hanging UEM for the configuration %d times after it had not sent the device list", n)
	}
	if code, st := w.device("BOBPHONE", "bob", eas.CmdSync); st != "129" {
		t.Fatalf("known-blocked device after a start beside a hanging UEM: %d %q", code, st)
	}
}
