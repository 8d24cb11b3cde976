//go:build containers

package exchange_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/exchange"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
)

func ExampleRun() {
	ctx := context.Background()
	c, err := exchange.Run(ctx, image,
		exchange.WithUsers(exchange.User{Name: "alice", Password: "alice-pw"}),
		exchange.WithDomain("corp.example"), exchange.WithMessages(4))
	defer func() {
		if err := testcontainers.TerminateContainer(c); err != nil {
			log.Printf("terminate: %v", err)
		}
	}()
	if err != nil {
		log.Printf("run: %v", err)
		return
	}
	u, err := c.URL(ctx)
	if err != nil {
		log.Printf("URL: %v", err)
		return
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: ctr.InsecureTLS()}} // self-signed
	resp, err := hc.Get(u + "/health")
	if err != nil {
		log.Printf("health: %v", err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
