//go:build containers

package dns_test

import (
	"context"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/dns"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
)

func TestRunAnswersOverTCPAndUDP(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	c, err := dns.Run(ctx, image, dns.WithZone("corp.example"),
		dns.WithHost("kdc1.corp.example", "192.0.2.10"), dns.WithKDC("CORP.EXAMPLE", "kdc1.corp.example:88"))
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []string{"tcp", "udp"} {
		addr, err := c.Addr(ctx)
		if proto == "udp" {
			addr, err = c.UDPAddr(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		m := new(mdns.Msg)
		m.SetQuestion("_kerberos._tcp.CORP.EXAMPLE.", mdns.TypeSRV)
		r, _, err := (&mdns.Client{Net: proto}).Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s query: %v", proto, err)
		}
		if len(r.Answer) == 0 {
			t.Fatalf("%s: no SRV answer: %v", proto, r)
		}
		if srv, ok := r.Answer[0].(*mdns.SRV); !ok || srv.Target != "kdc1.corp.example." || srv.Port != 88 {
			t.Fatalf("%s: answer %v", proto, r.Answer[0])
		}
	}
}
