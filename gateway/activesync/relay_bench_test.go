package activesync

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/rawrelay"
)

// relayURL starts internal/rawrelay (the least a Go TLS relay costs, no
// net/http on either side) in front of up and returns its URL and a
// client that trusts its certificate (a TLS test server's, whose own
// listener stays idle).
func relayURL(b *testing.B, up *httptest.Server) (string, *http.Client, func()) {
	cert := httptest.NewUnstartedServer(nil)
	cert.StartTLS()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cert.TLS.Clone())
	if err != nil {
		b.Fatal(err)
	}
	r := rawrelay.New(up.Listener.Addr().String(), up.Client().Transport.(*http.Transport).TLSClientConfig)
	go r.Serve(ln) //nolint:errcheck // ends when ln closes
	return "https://" + ln.Addr().String(), cert.Client(), func() { ln.Close(); r.Close(); cert.Close() }
}
