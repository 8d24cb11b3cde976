package servers

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
)

func TestGroupServesTLSAndPlainAndShutsDownAll(t *testing.T) {
	cert, err := selfsigned.Generate("servers test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	g := &Group{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, Log: slog.New(slog.DiscardHandler), Name: "test"}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.URL.Scheme+"hello") })
	tlsLn, _ := net.Listen("tcp", "127.0.0.1:0")
	plainLn, _ := net.Listen("tcp", "127.0.0.1:0")
	g.Serve(tlsLn, hello)
	g.ServePlain(plainLn, hello)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: selfsigned.Pool(cert), MinVersion: tls.VersionTLS12}}}
	for _, url := range []string{"https://" + tlsLn.Addr().String(), "http://" + plainLn.Addr().String()} {
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello" {
			t.Fatalf("%s: %q", url, b)
		}
	}
	hc.CloseIdleConnections()
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, ln := range []net.Listener{tlsLn, plainLn} {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Fatalf("%s still listening after Shutdown", ln.Addr())
		}
	}
}
