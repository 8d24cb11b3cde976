package faults

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

var directions = []Direction{Upstream, Downstream}

// listen starts a Listener of in on loopback, closed with the test.
func listen(t *testing.T, in *Injector) *Listener {
	t.Helper()
	l, err := in.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// serveHTTP serves h under in's faults on loopback and returns its URL and
// a client that does not reuse connections (each request sees the
// connection faults afresh).
func serveHTTP(t *testing.T, in *Injector, h http.Handler, opts ...MiddlewareOption) (string, *http.Client) {
	t.Helper()
	l := listen(t, in)
	srv := &http.Server{Handler: in.Middleware(h, opts...), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		in.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return "http://" + l.Addr().String(), hc
}

// get sends a GET and returns the status and body; err for no answer.
func get(ctx context.Context, hc *http.Client, url string) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

type result struct {
	status int
	body   string
	err    error
}

// getAsync sends a GET in the background.
func getAsync(ctx context.Context, hc *http.Client, url string) <-chan result {
	out := make(chan result, 1)
	go func() {
		st, b, err := get(ctx, hc, url)
		out <- result{st, b, err}
	}()
	return out
}

// mustSet sets specs or fails the test.
func mustSet(t *testing.T, in *Injector, specs ...Spec) {
	t.Helper()
	if err := in.Set(specs...); err != nil {
		t.Fatal(err)
	}
}

// dial connects to l.
func dial(t *testing.T, l net.Listener) (net.Conn, error) {
	t.Helper()
	return net.DialTimeout("tcp", l.Addr().String(), 10*time.Second)
}
