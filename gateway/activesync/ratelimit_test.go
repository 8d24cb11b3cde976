package activesync

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// fakeClock is a limiter clock the test moves.
func fakeClock(l *SourceLimiter) *time.Time {
	now := time.Unix(1_700_000_000, 0)
	l.now = func() time.Time { return now }
	return &now
}

func TestLoopbackIsUnlimitedByDefault(t *testing.T) {
	// The loadgen runs 100,000 devices from 127.0.0.1: with the default
	// (zero) loopback limits nothing from there is ever refused.
	l := NewSourceLimiter(SourceLimits{ConnectionsPerMinute: 6, RequestsPerSecond: 1}, SourceLimits{}, nil, nil)
	fakeClock(l)
	for i := range 10_000 {
		if !l.allowRequest("127.0.0.1:1234") || !l.allowConn("[::1]:1234") {
			t.Fatalf("loopback refused after %d", i)
		}
	}
	if l.localReqs.tracked() != 0 {
		t.Fatal("unlimited sources are tracked")
	}
}

func TestRemoteSourcesAreRateLimited(t *testing.T) {
	l := NewSourceLimiter(SourceLimits{ConnectionsPerMinute: 60, RequestsPerSecond: 10}, SourceLimits{}, nil, nil)
	now := fakeClock(l)
	allowed := func(addr string, n int) int {
		ok := 0
		for range n {
			if l.allowRequest(addr) {
				ok++
			}
		}
		return ok
	}
	if got := allowed("192.0.2.7:5000", 50); got != 20 {
		t.Fatalf("burst: %d allowed, want 20 (two seconds' worth)", got)
	}
	if got := allowed("192.0.2.8:5000", 50); got != 20 {
		t.Fatalf("another source shares the first one's budget: %d allowed", got)
	}
	*now = now.Add(time.Second)
	if got := allowed("192.0.2.7:5001", 50); got != 10 {
		t.Fatalf("after a second: %d allowed, want 10", got)
	}
	// IPv6 counts per /64.
	if got := allowed("[2001:db8:1:2::1]:5000", 15) + allowed("[2001:db8:1:2::99]:5000", 15); got != 20 {
		t.Fatalf("one /64: %d allowed, want 20", got)
	}
	conns := 0
	for range 100 {
		if l.allowConn("198.51.100.1:4000") {
			conns++
		}
	}
	if conns != 60 {
		t.Fatalf("%d connections allowed, want a minute's worth (60)", conns)
	}
}

func TestTrustedFrontEndsUseTheLocalLimits(t *testing.T) {
	l := NewSourceLimiter(SourceLimits{RequestsPerSecond: 1}, SourceLimits{}, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}, nil)
	fakeClock(l)
	for range 100 {
		if !l.allowRequest("10.1.2.3:443") {
			t.Fatal("a trusted front end was limited as a remote source")
		}
	}
	allowed := 0
	for range 3 {
		if l.allowRequest("10.2.0.1:443") {
			allowed++
		}
	}
	if allowed == 3 {
		t.Fatal("an address outside the front ends was not limited")
	}
}

func TestTrackedSourcesAreBounded(t *testing.T) {
	l := NewSourceLimiter(SourceLimits{RequestsPerSecond: 5}, SourceLimits{}, nil, nil)
	now := fakeClock(l)
	for i := range 3 * maxSources {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.allowRequest(netip.AddrPortFrom(a, 1).String())
		if i%1000 == 0 {
			*now = now.Add(time.Millisecond)
		}
	}
	if n := l.remoteReqs.tracked(); n > maxSources {
		t.Fatalf("%d sources tracked, bound %d", n, maxSources)
	}
}

func TestRequestsOverTheRateGet429(t *testing.T) {
	st := stats.NewRegistry()
	l := NewSourceLimiter(SourceLimits{}, SourceLimits{RequestsPerSecond: 1}, nil, st)
	fakeClock(l)
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	codes := map[int]int{}
	for range 5 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/Microsoft-Server-ActiveSync", nil)
		req.RemoteAddr = "127.0.0.1:999"
		h.ServeHTTP(rec, req)
		codes[rec.Code]++
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[200] != 2 || codes[429] != 3 || st.GlobalValue(stats.DRateLimited) != 3 {
		t.Fatalf("codes %v, d-rate-limited %d", codes, st.GlobalValue(stats.DRateLimited))
	}
}

func TestConnectionsOverTheRateAreClosed(t *testing.T) {
	st := stats.NewRegistry()
	l := NewSourceLimiter(SourceLimits{}, SourceLimits{ConnectionsPerMinute: 2}, nil, st)
	fakeClock(l)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := l.Listener(raw)
	defer ln.Close()
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	var clients []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	for range 2 {
		if c := <-accepted; c != nil {
			defer c.Close()
		}
	}
	// The third was closed by the listener: the client reads EOF (or a reset).
	_ = clients[2].SetReadDeadline(time.Now().Add(10 * time.Second))
	var ne net.Error
	if _, err := clients[2].Read(make([]byte, 1)); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("third connection: read error %v, want it closed", err)
	}
	if st.GlobalValue(stats.DConnRateLimited) != 1 {
		t.Fatalf("d-conn-rate-limited = %d", st.GlobalValue(stats.DConnRateLimited))
	}
}
