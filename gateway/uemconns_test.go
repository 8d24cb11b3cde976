package gateway_test

import (
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway"
)

// connCounter forwards TCP connections to target and counts those the
// client still holds open.
type connCounter struct {
	ln   net.Listener
	open atomic.Int64
	wg   sync.WaitGroup
}

func newConnCounter(t *testing.T, target string) *connCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connCounter{ln: ln}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			c.open.Add(1)
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				defer c.open.Add(-1)
				defer client.Close()
				server, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer server.Close()
				go func() { _, _ = io.Copy(client, server) }()
				_, _ = io.Copy(server, client) // until the client closes
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

// After Shutdown the gateway holds no connection to the UEM: its UEM
// client's idle connections are closed. A connection left open (one
// dialled for a cancelled call never carries a request) held the UEM's
// graceful stop for 5 s in the scenarios' worlds.
func TestShutdownClosesUEMConnections(t *testing.T) {
	var counter *connCounter
	w := newWorld(t, func(w *world) {
		w.gwBoot = func(c *gateway.Config) {
			u, err := url.Parse(c.UEM.URL)
			if err != nil {
				t.Fatal(err)
			}
			if counter == nil {
				counter = newConnCounter(t, u.Host)
			}
			u.Host = counter.ln.Addr().String()
			c.UEM.URL = u.String()
		}
	})
	if counter.open.Load() == 0 {
		t.Fatal("the gateway made no connection to the UEM at start")
	}
	w.stopGateway()
	gomega.NewWithT(t).Eventually(counter.open.Load).WithTimeout(3*time.Second).WithPolling(10*time.Millisecond).
		Should(gomega.BeZero(), "connections to the UEM the gateway still holds after Shutdown")
}
