//go:build containers

package dns_test

import (
	"context"
	"fmt"
	"log"

	mdns "github.com/miekg/dns"
	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/dns"
)

func ExampleRun() {
	ctx := context.Background()
	c, err := dns.Run(ctx, image, dns.WithZone("corp.example"),
		dns.WithHost("mail.corp.example", "192.0.2.25"))
	defer func() {
		if err := testcontainers.TerminateContainer(c); err != nil {
			log.Printf("terminate: %v", err)
		}
	}()
	if err != nil {
		log.Printf("run: %v", err)
		return
	}
	addr, err := c.UDPAddr(ctx)
	if err != nil {
		log.Printf("addr: %v", err)
		return
	}
	m := new(mdns.Msg)
	m.SetQuestion("mail.corp.example.", mdns.TypeA)
	r, _, err := new(mdns.Client).Exchange(m, addr)
	if err != nil {
		log.Printf("query: %v", err)
		return
	}
	fmt.Println(r.Answer[0].(*mdns.A).A)
	// Output: 192.0.2.25
}
