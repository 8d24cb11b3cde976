package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/apptunnel"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

func init() {
	for _, c := range []stats.Counter{stats.TunnelsOpened, stats.TunnelsRefused, stats.TunnelBytesUp, stats.TunnelBytesDown} {
		pinnedBy[c] = tunnelTraffic
	}
}

const tunnelTraffic = "TestSTA01CountersOnTunnels"

// The tunnel counters (issue 21) count through the gateway's own tunnel
// listener: a request relayed with a body each way, and one refused.
func TestSTA01CountersOnTunnels(t *testing.T) {
	w, backend := tunnelWorld(t)
	cert, _ := uemCert(t, w, uem.CertRequest{})
	post := func(app string) int {
		host := strings.TrimPrefix(backend.URL, "http://")
		head := "POST " + backend.URL + "/ HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 5\r\nConnection: close\r\n"
		if app != "" {
			head += apptunnel.HeaderAppID + ": " + app + "\r\n"
		}
		resp, _ := tunnelRoundTrip(t, w, cert, head+"\r\nhello")
		return resp.StatusCode
	}
	if code := post("com.example.browser"); code != http.StatusOK {
		t.Fatalf("tunnel request: HTTP %d", code)
	}
	if code := post(""); code < 400 {
		t.Fatalf("a request naming no app: HTTP %d, want a refusal", code)
	}
	w.expectPinned()
}
