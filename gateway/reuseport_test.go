package gateway

import "testing"

// TestReusePortSharesTheDevicePort: two listeners with reuse_port bind the
// same address (several gateway processes on one port), and without it
// the second bind is still refused (the default is unchanged).
func TestReusePortSharesTheDevicePort(t *testing.T) {
	first, err := listenTCP("127.0.0.1:0", true)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	addr := first.Addr().String()
	second, err := listenTCP(addr, true)
	if err != nil {
		t.Fatalf("second reuse_port listener on %s: %v", addr, err)
	}
	second.Close()
	if plain, err := listenTCP(addr, false); err == nil {
		plain.Close()
		t.Fatalf("a listener without reuse_port bound %s beside one with it", addr)
	}

	lone, err := listenTCP("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	defer lone.Close()
	if again, err := listenTCP(lone.Addr().String(), true); err == nil {
		again.Close()
		t.Fatal("a reuse_port listener bound the address of one without it")
	}
}
