package loadgen

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The fleet's clients read responses through a 1 KiB buffer (a held
// Ping keeps it): a status line, header lines and a body longer than
// that still arrive whole, over TLS as from the gateway.
func TestClientsSmallReadBufferReadsLongHeadersAndBodies(t *testing.T) {
	long := strings.Repeat("h", 3000)
	body := strings.Repeat("b", 70_000)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Long", long)
		w.Header().Set("Set-Cookie", "c="+long)
		_, _ = io.WriteString(w, body)
	}))
	defer srv.Close()
	cs, err := Clients(srv.URL, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer CloseClients(cs)
	if got := cs[0].Transport.(*http.Transport).ReadBufferSize; got != 1<<10 {
		t.Errorf("ReadBufferSize = %d, want 1 KiB", got)
	}
	for range 2 { // a fresh connection, then the kept one
		resp, err := cs[0].Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != body || resp.Header.Get("X-Long") != long || resp.Header.Get("Set-Cookie") != "c="+long {
			t.Fatalf("status %d, err %v, body %d bytes, X-Long %d bytes", resp.StatusCode, err, len(b), len(resp.Header.Get("X-Long")))
		}
	}
}
