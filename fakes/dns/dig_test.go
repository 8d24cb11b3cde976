package dns

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/peers"
)

// dig runs BIND's dig against the fake server; without dig it skips
// loudly, or fails under GATEHOUSE_REQUIRE_PEERS=1 (.ci/run).
func dig(t *testing.T, s *Server, args ...string) string {
	t.Helper()
	bin := peers.Require(t, "dig", "dnsutils")
	host, port, _ := net.SplitHostPort(s.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"@" + host, "-p", port, "+time=2", "+tries=1"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("dig %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// DEF-07 with a real resolver client: dig reads the SRV, TXT and A records.
func TestDEF07_DigResolvesSRVAndA(t *testing.T) {
	s := startDNS(t)
	out := dig(t, s, "+short", "SRV", "_kerberos._tcp."+realm)
	if !strings.Contains(out, "0 0 10088 kdc1.corp.example.") || !strings.Contains(out, "10 5 88 kdc2.corp.example.") {
		t.Fatalf("dig SRV:\n%s", out)
	}
	if out = dig(t, s, "+short", "A", "kdc1.corp.example"); strings.TrimSpace(out) != "127.0.0.1" {
		t.Fatalf("dig A:\n%s", out)
	}
	if out = dig(t, s, "+short", "TXT", "_kerberos."+realm); strings.TrimSpace(out) != `"`+realm+`"` {
		t.Fatalf("dig TXT:\n%s", out)
	}
	if out = dig(t, s, "A", "missing.corp.example"); !strings.Contains(out, "status: NXDOMAIN") || !strings.Contains(out, "flags: qr aa") {
		t.Fatalf("dig NXDOMAIN:\n%s", out)
	}
}

// KDC-04: dig gets TC over UDP for a huge SRV answer and retries over TCP.
func TestKDC04_DigRetriesHugeAnswerOverTCP(t *testing.T) {
	s := startDNS(t)
	s.SetFaults(Faults{ExtraSRV: 300})
	out := dig(t, s, "SRV", "_kerberos._tcp."+realm)
	if !strings.Contains(out, "Truncated, retrying in TCP mode") || !strings.Contains(out, "ANSWER: 302") {
		t.Fatalf("dig huge SRV:\n%s", out)
	}
	s.SetFaults(Faults{ServFail: true})
	if out = dig(t, s, "A", "kdc1.corp.example"); !strings.Contains(out, "status: SERVFAIL") {
		t.Fatalf("dig SERVFAIL:\n%s", out)
	}
}
