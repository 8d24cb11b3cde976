package gateway_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The admin status reports the UEM configuration version in use, so a
// caller that changed the configuration at the UEM can wait until the
// gateway applies it instead of guessing (the lab demo's OAuth step met
// the AppTunnel step's device authentication still in force).
func TestStatusReportsTheAppliedConfigVersion(t *testing.T) {
	w := newWorld(t)
	g := gomega.NewWithT(t)
	applied := func() int64 {
		st, err := w.adm.Status(context.Background())
		if err != nil {
			return -1
		}
		return st.ConfigVersion
	}
	var e struct {
		ConfigVersion int64 `json:"config_version"`
	}
	w.uemAdmin(http.MethodGet, "/gateways/gw1", nil, &e)
	g.Expect(e.ConfigVersion).To(gomega.BeNumerically(">=", 1))
	g.Expect(applied()).To(gomega.Equal(e.ConfigVersion), "the version applied at start")

	gc := uemapi.DefaultGatewayConfig()
	gc.ActiveSync.Services = []uemapi.ActiveSyncService{uemapi.DefaultActiveSyncService(w.exch.Addr())}
	gc.ActiveSync.Services[0].ServerTLS = true
	gc.Timeouts.DeviceRequestMs = 20_000
	w.uemAdmin(http.MethodPut, "/gateways/gw1/config", gc, nil)
	w.uemAdmin(http.MethodGet, "/gateways/gw1", nil, &e)
	g.Eventually(applied).WithTimeout(10*time.Second).Should(gomega.Equal(e.ConfigVersion), "the version applied after the change")
}
