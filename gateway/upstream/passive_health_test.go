package upstream

import (
	"context"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

func TestASC14_ServerKilledMidRunIsDeadAfterThresholdAndTrafficMoves(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	clk := newClock()
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now})
	for range 10 {
		mustDo(t, r, easRequest("gw", "Sync", ""))
	}
	a.kill()
	// DEF-01: Dead Threshold 5. Each request fails on a, then moves to b
	// without the device noticing.
	for i := range 5 {
		if st := serverStatus(t, r, "default", a.addr()); !st.Reachable {
			t.Fatalf("a dead after %d failures, want 5", i)
		}
		if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "b" {
			t.Fatalf("request %d answered by %q", i, body)
		}
		clk.Advance(time.Second)
	}
	st := serverStatus(t, r, "default", a.addr())
	if st.Reachable || st.State() != "Unreachable" || st.FailureCount != 5 {
		t.Fatalf("a after 5 failures = %+v", st)
	}
	// Refused connections, and the kept-alive one the kill closed.
	if got := r.Counter(stats.SErrReset) + r.Counter(stats.SSoClose); got != 5 {
		t.Errorf("s-err-reset + s-so-close = %d, want 5", got)
	}
	// Dead: no more attempts on a, so no more failures.
	for range 10 {
		mustDo(t, r, easRequest("gw", "Sync", ""))
	}
	if st := serverStatus(t, r, "default", a.addr()); st.FailureCount != 5 {
		t.Fatalf("dead server still tried: %+v", st)
	}
	if b.hits.Load() != 15 {
		t.Fatalf("b hits = %d, want 15", b.hits.Load())
	}
}

func TestASC14_FailuresSpreadWiderThanTheFailureWindowDoNotKill(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	clk := newClock()
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now})
	a.kill()
	for range 20 {
		mustDo(t, r, easRequest("gw", "Sync", ""))
		// Five failures 8 s apart span 32 s: never 5 within the 30 s window.
		clk.Advance(8 * time.Second)
	}
	if st := serverStatus(t, r, "default", a.addr()); !st.Reachable || st.FailureCount != 20 {
		t.Fatalf("a = %+v, want live with 20 failures", st)
	}
}

func TestASC14_WithoutHealthCheckADeadServerIsLiveAgainAfterDeadTime(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	clk := newClock()
	svc := service("default", a, b)
	svc.HealthCheck.Enabled = false
	r := newRouter(t, asConfig(svc), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now})
	a.kill()
	for range 5 {
		mustDo(t, r, easRequest("gw", "Sync", ""))
	}
	if serverStatus(t, r, "default", a.addr()).Reachable {
		t.Fatal("a not dead")
	}
	clk.Advance(59 * time.Second)
	if serverStatus(t, r, "default", a.addr()).Reachable {
		t.Fatal("a live before Dead Time (60 s)")
	}
	a.revive(t)
	clk.Advance(time.Second)
	if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "a" {
		t.Fatalf("after Dead Time priority went to %q, want a", body)
	}
}

// The gateway out of open files (or ephemeral ports) is its own failure:
// the server stays live however often it happens, and nothing else is tried.
func TestASC14_GatewayOutOfFilesDoesNotKillTheServer(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	clk := newClock()
	var exhausted atomic.Bool
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if exhausted.Load() {
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("socket", syscall.EMFILE)}
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now, DialContext: dial})
	exhausted.Store(true)
	for i := range 10 {
		req := easRequest("gw", "Sync", "")
		req.Close = true // no kept-alive connection to hide the dial
		if _, _, err := do(t, r, req); err == nil || !errors.Is(err, syscall.EMFILE) {
			t.Fatalf("request %d: %v, want the EMFILE", i, err)
		}
		clk.Advance(time.Second)
	}
	for _, x := range []*exchange{a, b} {
		if st := serverStatus(t, r, "default", x.addr()); !st.Reachable || st.FailureCount != 0 {
			t.Fatalf("%s after the gateway's own EMFILE: %+v", x.addr(), st)
		}
	}
	if a.hits.Load()+b.hits.Load() != 0 || r.Counter(stats.SUnclassified) != 10 {
		t.Fatalf("hits %d+%d, s-unclassified %d; want 0 and 10", a.hits.Load(), b.hits.Load(), r.Counter(stats.SUnclassified))
	}
	exhausted.Store(false)
	if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "a" {
		t.Fatalf("after the limit: answered by %q", body)
	}
}
