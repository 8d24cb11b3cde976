package faults

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// A down listener's port stays its own: another server listening on the
// address (as a parallel test given the port by bind(0) would) is refused
// while down and after, and a closed listener gives the port back. Without
// the placeholder a client of the down fake reached the other server
// (TestFaults_DownBeforeStart: "server gave HTTP response to HTTPS client").
func TestDownKeepsThePortFromOtherListeners(t *testing.T) {
	in := New(1)
	l := listen(t, in)
	addr := l.Addr().String()
	for _, phase := range []struct {
		name string
		set  func()
	}{
		{"down", func() { mustSet(t, in, Spec{Toxic: Down{}}) }},
		{"up again", func() { mustSet(t, in) }},
		{"down twice", func() { mustSet(t, in, Spec{Toxic: Down{}}) }},
	} {
		phase.set()
		other, err := net.Listen("tcp", addr)
		if err == nil {
			other.Close()
			t.Fatalf("%s: another listener took %s", phase.name, addr)
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("%s: listen on %s: %v, want address in use", phase.name, addr, err)
		}
	}
	if _, err := dial(t, l); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial while down: %v, want connection refused", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	other, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port was not given back on Close: %v", err)
	}
	other.Close()
}
