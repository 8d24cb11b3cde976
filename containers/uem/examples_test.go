//go:build containers

package uem_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
	"github.com/gatehouse-lab/gatehouse/containers/uem"
	fakeuem "github.com/gatehouse-lab/gatehouse/fakes/uem"
)

func ExampleRun() {
	ctx := context.Background()
	c, err := uem.Run(ctx, image,
		uem.WithAdminToken("example-admin-token"),
		uem.WithSeed(fakeuem.Seed{Users: []fakeuem.User{{ID: "alice", UPN: "alice@corp.example", Email: "alice@corp.example", MailboxID: "mbx-alice"}}}))
	defer func() {
		if err := testcontainers.TerminateContainer(c); err != nil {
			log.Printf("terminate: %v", err)
		}
	}()
	if err != nil {
		log.Printf("run: %v", err)
		return
	}
	admin, err := c.AdminURL(ctx)
	if err != nil {
		log.Printf("admin URL: %v", err)
		return
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/admin/v1/users/alice", nil)
	req.Header.Set("Authorization", "Bearer "+c.AdminToken())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: ctr.InsecureTLS()}} // self-signed
	resp, err := hc.Do(req)
	if err != nil {
		log.Printf("get: %v", err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
