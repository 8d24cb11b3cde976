//go:build containers

package exchange_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/exchange"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
)

func TestRunAnswers(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	c, err := exchange.Run(ctx, image, exchange.WithUsers(exchange.User{Name: "alice", Password: "alice-pw"}), exchange.WithMessages(2))
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.URL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctrtest.Expect(t, http.MethodGet, u+"/health", "", http.StatusOK)
	ctrtest.Expect(t, http.MethodOptions, u+exchange.EASPath, "", http.StatusUnauthorized)
	admin, err := c.AdminURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctrtest.Expect(t, http.MethodGet, admin+"/admin/v1/mailboxes/alice", c.AdminToken(), http.StatusOK)
	ctrtest.Expect(t, http.MethodGet, admin+"/admin/v1/mailboxes", "wrong-token", http.StatusUnauthorized)
}
