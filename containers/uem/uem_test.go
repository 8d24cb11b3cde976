//go:build containers

package uem_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
	"github.com/gatehouse-lab/gatehouse/containers/uem"
	fakeuem "github.com/gatehouse-lab/gatehouse/fakes/uem"
)

func TestRunAnswers(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	c, err := uem.Run(ctx, image, uem.WithAdminToken("uem-admin-token-1"),
		uem.WithSeed(fakeuem.Seed{Users: []fakeuem.User{{ID: "alice", UPN: "alice@corp.example", Email: "alice@corp.example", MailboxID: "mbx-alice"}}}))
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := c.AdminURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctrtest.Expect(t, http.MethodGet, admin+"/admin/v1/users/alice", c.AdminToken(), http.StatusOK)
	ctrtest.Expect(t, http.MethodGet, admin+"/admin/v1/users/alice", "wrong", http.StatusUnauthorized)
	api, err := c.GatewayAPIURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctrtest.Expect(t, http.MethodGet, api+"/api/v1/connectivity", "no-such-gateway-token", http.StatusUnauthorized)
}
