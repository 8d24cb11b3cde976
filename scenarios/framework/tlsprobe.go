package framework

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/onsi/gomega"
)

// Helpers of the TLS specs: handshakes with the gateway's device
// listener as devices with other TLS stacks would make them.

// GatewayHostPort is the device listener's host:port.
func (f *Framework) GatewayHostPort() string {
	u, err := url.Parse(f.DeviceURL())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return u.Host
}

// Handshake makes one TLS handshake with the device listener using cfg
// (certificates are not verified) and returns what was negotiated.
func (f *Framework) Handshake(ctx context.Context, cfg *tls.Config) (tls.ConnectionState, error) {
	cfg = cfg.Clone()
	cfg.InsecureSkipVerify = true //nolint:gosec // the gateway's throwaway certificate
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	c, err := d.DialContext(ctx, "tcp", f.GatewayHostPort())
	if err != nil {
		return tls.ConnectionState{}, fmt.Errorf("handshake: %w", err)
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState(), nil
}

// TLSVersions pins a client to exactly one protocol version.
func TLSVersions(v uint16) *tls.Config { return &tls.Config{MinVersion: v, MaxVersion: v} }
