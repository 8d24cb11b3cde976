package rawrelay

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestReadMessage(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		err            bool
	}{
		{"request with body", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcdef", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", false},
		{"response, length any case", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", false},
		{"no length", "POST / HTTP/1.1\r\nHost: x\r\n\r\n", "", true},
		{"bad length", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", "", true},
		{"short body", "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", "", true},
	} {
		var out bytes.Buffer
		err := readMessage(bufio.NewReader(strings.NewReader(tc.in)), &out)
		if (err != nil) != tc.err {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.err)
		}
		if !tc.err && out.String() != tc.want {
			t.Errorf("%s: read %q, want %q", tc.name, out.String(), tc.want)
		}
	}
}

// TestRelayKeepsAlive: two requests on one device connection reach the
// server and come back whole, over one pooled server connection.
func TestRelayKeepsAlive(t *testing.T) {
	var conns atomic.Int32
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Length", "0")
		w.Header().Set("X-Got", string(b))
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.StartTLS()
	defer up.Close()
	front := httptest.NewUnstartedServer(nil)
	front.StartTLS()
	defer front.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", front.TLS.Clone())
	if err != nil {
		t.Fatal(err)
	}
	r := New(up.Listener.Addr().String(), up.Client().Transport.(*http.Transport).TLSClientConfig)
	go r.Serve(ln) //nolint:errcheck // ends when ln closes
	defer func() { ln.Close(); r.Close() }()
	client := front.Client()
	for _, body := range []string{"one", "two"} {
		resp, err := client.Post("https://"+ln.Addr().String()+"/x", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Got"); got != body {
			t.Errorf("server got %q, want %q", got, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d server connections for two requests, want 1 (pooled)", n)
	}
}
