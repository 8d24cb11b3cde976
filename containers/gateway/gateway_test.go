//go:build containers

package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/gateway"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
)

// Without a reachable UEM the gateway still starts (fail-open, empty
// device list) and serves devices and its admin API.
func TestRunAnswersWithoutUEM(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	c, err := gateway.Run(ctx, image,
		gateway.WithUEM("https://127.0.0.1:1", "gateway-token-0123456789", "notify-secret-0123456789"),
		gateway.WithIntervals(time.Second, 0, 0))
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := c.AdminURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctrtest.Expect(t, http.MethodGet, admin+"/admin/v1/status", c.AdminToken(), http.StatusOK)
	ctrtest.Expect(t, http.MethodGet, admin+"/admin/v1/status", "wrong-token", http.StatusUnauthorized)
	notify, err := c.NotifyURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctrtest.Expect(t, http.MethodPost, notify, "", http.StatusUnauthorized) // unsigned
}
