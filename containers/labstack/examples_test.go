//go:build containers

package labstack_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gatehouse-lab/gatehouse/containers/labstack"
)

func ExampleRun() {
	ctx := context.Background()
	s, err := labstack.Run(ctx, image, labstack.Config{Users: 2})
	defer func() {
		if err := s.Terminate(ctx); err != nil {
			log.Printf("terminate: %v", err)
		}
	}()
	if err != nil {
		log.Printf("run: %v", err)
		return
	}
	e, err := s.Endpoints(ctx)
	if err != nil {
		log.Printf("endpoints: %v", err)
		return
	}
	// e.Gateway.DeviceURL is what devices use; e.UEM.AdminURL and
	// e.Exchange.AdminURL drive the fakes; the users are lab's.
	fmt.Println(e.Mode, e.UEM.GatewayID, e.Users[0].Name, e.Users[0].Password)
	// Output: containers gw1 alice alice-pw
}
