package exchange

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

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
	waitFor(t, func() bool { return srv.WaitingPings() == n })
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
	waitFor(t, func() bool { return runtime.NumGoroutine() <= g0+2 })
}

// waitFor polls cond for up to 10 s (tests never sleep for a fixed time to
// wait for a state).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("condition not met in 10 s; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
