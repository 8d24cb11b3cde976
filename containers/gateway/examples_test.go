//go:build containers

package gateway_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/gateway"
)

func ExampleRun() {
	ctx := context.Background()
	c, err := gateway.Run(ctx, image,
		// The UEM as the container reaches it: https://uem:8600 for a
		// containers/uem on the same network (labstack does this). None
		// here: the gateway starts fail-open on its (empty) device list.
		gateway.WithUEM("https://127.0.0.1:1", "the-gateway-uem-token", "the-notification-secret"),
		gateway.WithFailOpen(true),
		gateway.WithIntervals(time.Second, 5*time.Second, 10*time.Second))
	defer func() {
		if err := testcontainers.TerminateContainer(c); err != nil {
			log.Printf("terminate: %v", err)
		}
	}()
	if err != nil {
		log.Printf("run: %v", err)
		return
	}
	eas, err := c.ActiveSyncURL(ctx)
	if err != nil {
		log.Printf("URL: %v", err)
		return
	}
	fmt.Println(strings.HasPrefix(eas, "https://"), strings.HasSuffix(eas, "/Microsoft-Server-ActiveSync"))
	// Output: true true
}
