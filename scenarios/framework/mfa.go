package framework

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// StartMFAGateway starts the lab's second gateway of the MFA topology
// (OAU-08, lab.StartMFAGateway) for the spec, trusting the UEM's device
// CA, and stops it after. The spec is skipped without an in-process OAuth
// lab (conformance mode has no second gateway to start).
func (f *Framework) StartMFAGateway() *lab.MFAGateway {
	if ConformanceMode() || f.Lab == nil || f.Lab.IdP == nil {
		ginkgo.Skip("the MFA topology needs the lab's OAuth world and a second in-process gateway")
	}
	g, err := f.Lab.StartMFAGateway(f.Ctx(), "mfa-"+strings.ToLower(f.FreshDeviceID()), f.IdentityCertificates())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "starting the MFA gateway")
	ginkgo.DeferCleanup(func(ctx context.Context) error { return g.Shutdown(ctx) })
	return g
}

// SplitTunnelClient is the HTTP client of a device whose Tunnel app
// carries the connections to the host:ports in tunnelled through app
// (one CONNECT each), as the seeds' per-domain VPN rule for login.* does;
// every other connection is dialled directly from the loopback address
// src. Lab certificates are trusted.
func SplitTunnelClient(app *device.App, tunnelled []string, src string) *http.Client {
	direct := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if slices.Contains(tunnelled, addr) {
			c, _, err := app.Connect(ctx, addr)
			return c, err
		}
		return direct.DialContext(ctx, network, addr)
	}
	return &http.Client{Timeout: 20 * time.Second,
		Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // lab certificates
}
