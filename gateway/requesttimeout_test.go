package gateway_test

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ASC-23: the Device request timeout the UEM sets applies to the device
// listener from then on, not only from the next start: a connection that
// sends nothing is closed after it.
func TestASC23_DeviceRequestTimeoutChangeAppliesWithoutRestart(t *testing.T) {
	w := newWorld(t) // started on the default 10 s
	gc := uemapi.DefaultGatewayConfig()
	gc.ActiveSync.Services = []uemapi.ActiveSyncService{uemapi.DefaultActiveSyncService(w.exch.Addr())}
	gc.ActiveSync.Services[0].ServerTLS = true
	gc.Timeouts.DeviceRequestMs = 200
	w.uemAdmin(http.MethodPut, "/gateways/gw1/config", gc, nil)
	g := gomega.NewWithT(t)
	g.Eventually(func() int64 {
		var e struct {
			Status        string `json:"status"`
			ConfigVersion int64  `json:"config_version"`
		}
		w.uemAdmin(http.MethodGet, "/gateways/gw1", nil, &e)
		if e.Status != "Success" {
			return 0
		}
		return e.ConfigVersion
	}).WithTimeout(20 * time.Second).Should(gomega.BeNumerically(">=", 2))

	c, err := tls.Dial("tcp", strings.TrimPrefix(w.gw.DeviceURL(), "https://"), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test gateway certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closed := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		closed <- err
	}()
	// Far below the 10 s the gateway started with: only the new
	// setting closes the connection in this time.
	g.Eventually(closed).WithTimeout(20*time.Second).Should(gomega.Receive(gomega.HaveOccurred()), "an idle device connection closed after the new Device request timeout")
}
