package gateway_test

import (
	"strings"
	"testing"
)

// FLOW-15: the UEM shows the gateway's software version, which the
// gateway sends on its calls; before, it sent none and the UEM's entry
// showed an empty version.
func TestFLOW15GatewayReportsItsVersionToTheUEM(t *testing.T) {
	w := newWorld(t)
	g, err := w.uem.Gateway("gw1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.Version, "gatehouse/") {
		t.Fatalf("the UEM's gateway entry shows version %q, want the gateway's (gatehouse/...)", g.Version)
	}
}
