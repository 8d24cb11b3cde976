package loopback

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/peers"
)

// TestCIFreePortIsBelowTheEphemeralRange: the scale scripts' free_port
// (.ci/lib/lab.sh) hands out ports as Port does, below the ephemeral
// range, where no bind(0) or outgoing connection takes them between the
// pick and the gateways' bind. It took its port from bind(0) before.
func TestCIFreePortIsBelowTheEphemeralRange(t *testing.T) {
	bash := peers.Require(t, "bash", "bash")
	peers.Require(t, "python3", "python3")
	end := ephemeralStart()
	for range 2 {
		out, err := exec.Command(bash, "-c", ". ../../.ci/lib/lab.sh && free_port").CombinedOutput()
		if err != nil {
			t.Fatalf("free_port: %v: %s", err, out)
		}
		p, err := strconv.Atoi(strings.TrimSpace(string(out)))
		if err != nil || p < lowest || p >= end {
			t.Fatalf("free_port gave %q, want a port in [%d, %d)", out, lowest, end)
		}
		if err := probe("127.0.0.1:" + strconv.Itoa(p)); err != nil {
			t.Errorf("free_port gave %d, not free: %v", p, err)
		}
	}
}
