package gateway

import "testing"

// TestReusePortSharesTheTunnelPort: with reuse_port two gateways bind the
// same AppTunnel address (several processes hold the tunnels past one
// process's file limit, docs/apptunnel.md); without it the second gateway
// is still refused.
func TestReusePortSharesTheTunnelPort(t *testing.T) {
	gw := func(addr string, reuse bool) (*Server, error) {
		s := &Server{cfg: Config{AppTunnelListen: addr, ReusePort: reuse}, at: &appTunnel{}, addrs: map[string]string{}}
		return s, s.listenAppTunnel()
	}
	first, err := gw("127.0.0.1:0", true)
	if err != nil {
		t.Fatal(err)
	}
	defer first.at.ln.Close()
	addr := first.addrs["apptunnel"]
	second, err := gw(addr, true)
	if err != nil {
		t.Fatalf("a second gateway with reuse_port on the tunnel port %s: %v", addr, err)
	}
	second.at.ln.Close()
	if plain, err := gw(addr, false); err == nil {
		plain.at.ln.Close()
		t.Fatalf("a gateway without reuse_port bound the tunnel port %s beside one with it", addr)
	}
}
