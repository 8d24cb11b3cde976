package lab_test

import (
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/lab"
)

// The gateway's ports, which a restart binds again, are below the kernel's
// ephemeral range: neither bind(0) in a parallel test package nor an
// outgoing connection's source port can take them while the gateway is
// stopped. With ports from bind(0), a restart could fail with "address
// already in use" or the devices reach another package's server.
func TestGatewayPortsAreOutsideTheEphemeralRange(t *testing.T) {
	first := ephemeralStart(t)
	l := startLab(t, lab.Config{})
	e := l.Endpoints()
	for name, u := range map[string]string{"device": e.Gateway.DeviceURL, "notify": e.Gateway.NotifyURL,
		"admin": e.Gateway.AdminURL, "apptunnel": l.AppTunnelURL()} {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		p, err := strconv.Atoi(pu.Port())
		if err != nil {
			t.Fatalf("%s %q: %v", name, u, err)
		}
		if p >= first {
			t.Errorf("the %s listener's port %d is in the ephemeral range (from %d)", name, p, first)
		}
	}
}

func ephemeralStart(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Skipf("no ephemeral port range to compare with: %v", err)
	}
	n, err := strconv.Atoi(strings.Fields(string(b))[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}
