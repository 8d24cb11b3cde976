package device

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
)

// stallingTunnel accepts TLS connections, reads one request and never
// answers it; got receives each request's method.
func stallingTunnel(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	cert, err := selfsigned.Generate("127.0.0.1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 4)
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					ch <- req.Method
				}
				<-done
			}()
		}
	}()
	return ln.Addr().String(), ch
}

// An app operation that the caller's cancellation ends (a load run's end
// cutting it short) says context.Canceled, so that the loadgen counts it
// as cut and not as a transport failure: before, the connection closed
// for the cancellation made it "use of closed network connection", and
// TestMixedMailAndAppFleetThroughTheLab failed on a loaded machine with
// the tunnel operations in flight at the end counted as failed.
func TestAppOperationCutByCancellationSaysCanceled(t *testing.T) {
	addr, got := stallingTunnel(t)
	app := &App{Tunnel: addr, BundleID: "com.example.cut", Timeout: time.Minute}
	for _, op := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"GET", func(ctx context.Context) error { _, err := app.Get(ctx, "http://intranet.example/"); return err }},
		{"CONNECT", func(ctx context.Context) error {
			c, _, err := app.Connect(ctx, "echo.example:7")
			if c != nil {
				c.Close()
			}
			return err
		}},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- op.run(ctx) }()
		select {
		case m := <-got:
			if m != op.name {
				t.Fatalf("the tunnel got %s, want %s", m, op.name)
			}
		case err := <-errc:
			t.Fatalf("%s ended before the tunnel got it: %v", op.name, err)
		}
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("%s cut by the caller: %v, want context.Canceled", op.name, err)
		}
	}
}
