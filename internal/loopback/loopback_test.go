package loopback

import (
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
)

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Ports come from below the ephemeral range, are not handed out twice in
// a row, and can be bound.
func TestPortIsBelowTheEphemeralRangeAndFree(t *testing.T) {
	a, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Port()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("the same port twice: %s", a)
	}
	for _, addr := range []string{a, b} {
		if p := port(t, addr); p < lowest || p >= ephemeralStart() {
			t.Fatalf("%s is not in [%d, %d)", addr, lowest, ephemeralStart())
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("binding %s: %v", addr, err)
		}
		ln.Close()
	}
}

func TestHostReplacesOnlyALoopbackPortZero(t *testing.T) {
	for in, changed := range map[string]bool{"127.0.0.1:0": true, "127.0.0.1:8443": false, "0.0.0.0:0": false} {
		out, err := Host(in)
		if err != nil {
			t.Fatal(err)
		}
		if (out != in) != changed {
			t.Errorf("Host(%q) = %q", in, out)
		}
	}
	if _, err := Host("no port"); err == nil {
		t.Error("an address without a port was accepted")
	}
}

// A refusing address refuses connections and keeps its port from other
// listeners until release.
func TestRefusingHoldsThePortUntilRelease(t *testing.T) {
	addr, release, err := Refusing()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	if ln, err := net.Listen("tcp", addr); !errors.Is(err, syscall.EADDRINUSE) {
		if err == nil {
			ln.Close()
		}
		t.Fatalf("listen on the held %s: %v, want address in use", addr, err)
	}
	for range 2 { // a second release (a deferred one) is harmless
		if err := release(); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s after release: %v", addr, err)
	}
	ln.Close()
}
