package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// A connection that never sent a request does not hold a shutdown: the
// standard library would count it busy for five seconds (here the
// deadline is well inside them), while one in the middle of a request is
// still waited for.
func TestShutdownClosesConnectionsWithoutARequest(t *testing.T) {
	release := make(chan struct{})
	inHandler := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inHandler)
		<-release
	}))
	fresh := newFreshConns()
	srv.Config.ConnState = fresh.track
	srv.StartTLS()
	defer srv.Close()
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free() // before Close, which waits for the handler

	idle := make([]*tls.Conn, 3)
	for i := range idle {
		c, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle[i] = c
	}
	busy := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		busy <- err
	}()
	<-inHandler

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- fresh.shutdown(ctx, srv.Config) }()
	for i, c := range idle { // the server closes them: a read ends
		c.SetReadDeadline(time.Now().Add(time.Second))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection %d without a request is still open: %v", i, err)
		}
	}
	select {
	case err := <-stopped:
		t.Fatalf("shutdown returned with a request in flight: %v", err)
	default:
	}
	free()
	if err := <-busy; err != nil {
		t.Fatalf("the request in flight: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
