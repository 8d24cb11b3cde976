package exchange

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

func TestShutdownReleasesHeldPings(t *testing.T) {
	g0 := runtime.NumGoroutine()
	srv, err := New(Config{Seed: 3, MessagesPerUser: -1, AllowUnprovisioned: true, MinHeartbeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	clients := make([]*testClient, n)
	for i := range clients {
		clients[i] = newClient(t, srv, "user1", "DEVSHUT"+itoa(i), eas.V161)
	}
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r eas.PingResponse
			c.call(eas.CmdPing, pingReq(3000, "1"), &r)
			statuses <- r.Status
		}()
	}
	gomega.NewWithT(t).Eventually(srv.WaitingPings).WithTimeout(10*time.Second).Should(gomega.BeEquivalentTo(n), "Pings held")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != 1 {
			t.Errorf("held Ping answered %d at shutdown, want 1", st)
		}
	}
	for _, c := range clients {
		c.hc.CloseIdleConnections()
	}
	gomega.NewWithT(t).Eventually(runtime.NumGoroutine).WithTimeout(10*time.Second).Should(gomega.BeNumerically("<=", g0+2), func() string {
		buf := make([]byte, 1<<16)
		return "goroutines left after shutdown:\n" + string(buf[:runtime.Stack(buf, true)])
	})
}
