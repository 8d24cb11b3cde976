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
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
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

// After Shutdown the gateway holds no connection to the UEM or to the
// ActiveSync servers: its clients' idle connections are closed. One left
// open (one dialled for a cancelled call never carries a request) held
// the UEM's or the Exchange's graceful stop for 5 s in the scenarios'
// worlds.
func TestShutdownClosesOutgoingConnections(t *testing.T) {
	for _, peer := range []string{"UEM", "Exchange"} {
		t.Run(peer, func(t *testing.T) {
			var counter *connCounter
			w := newWorld(t, func(w *world) {
				if peer == "UEM" {
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
					return
				}
				w.gwConfig = func(gc *uemapi.GatewayConfig) {
					counter = newConnCounter(t, w.exch.Addr())
					gc.ActiveSync.Services[0].Servers = counter.ln.Addr().String()
				}
			})
			if peer == "Exchange" {
				if code, _ := w.device("SHUTDOWNDEV", "alice", eas.CmdFolderSync); code == 0 {
					t.Fatal("no answer through the gateway")
				}
			}
			if counter.open.Load() == 0 {
				t.Fatalf("the gateway made no connection to the %s", peer)
			}
			w.stopGateway()
			gomega.NewWithT(t).Eventually(counter.open.Load).WithTimeout(20*time.Second).WithPolling(10*time.Millisecond).
				Should(gomega.BeZero(), "connections to the %s the gateway still holds after Shutdown", peer)
		})
	}
}
