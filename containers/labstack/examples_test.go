//go:build containers

package labstack_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/containers/labstack"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
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

// A device blocked through the containerised UEM's admin API is refused
// by the containerised gateway; Stack.ExchangeAdmin drives the Exchange
// the same way.
func ExampleStack_UEMAdmin() {
	ctx := context.Background()
	s, err := labstack.Run(ctx, image, labstack.Config{Users: 1})
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
	admin, err := s.UEMAdmin(ctx)
	if err != nil {
		log.Printf("uem admin: %v", err)
		return
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the stack's certificates are self-signed
	alice := e.Users[0]
	d, err := device.New(device.Config{ID: "EXAMPLE0001", User: alice.Name, Password: alice.Password}, e.Gateway.DeviceURL, hc)
	if err != nil {
		log.Printf("device: %v", err)
		return
	}
	if err := d.Connect(ctx); err != nil { // first access: reported to the UEM, allowed, synced
		log.Printf("connect: %v", err)
		return
	}
	a, err := admin.FindAssociation(ctx, d.ID(), alice.Name)
	if err != nil {
		log.Printf("association: %v", err)
		return
	}
	if _, err := admin.Act(ctx, a.ID, uem.Action{Action: uem.ActBlock, Note: "lost phone"}); err != nil {
		log.Printf("block: %v", err)
		return
	}
	// The UEM notifies the gateway; poll, with a bound, until it applies.
	deadline := time.Now().Add(30 * time.Second)
	for _, err = d.Sync(ctx); !errors.Is(err, device.ErrBlocked) && time.Now().Before(deadline); _, err = d.Sync(ctx) {
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Println(a.SyncStatus, "then blocked:", errors.Is(err, device.ErrBlocked))
	// Output: Allowed then blocked: true
}
