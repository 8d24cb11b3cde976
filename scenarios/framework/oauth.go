package framework

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// FeatureOAuth labels the OAuth pass-through specs (checklist OAU).
const FeatureOAuth = "oauth"

// WithOAuth gives the spec an OAuth world: a fake IdP whose conditional
// access trusts only the gateway's address, an Exchange taking its bearer
// tokens, and Enable Pass Through with OAuth on (lab.Config.OAuth).
func WithOAuth() Option { return WithLabConfig(func(c *lab.Config) { c.OAuth = true }) }

// OAuthThroughGateway is the OAuth configuration of a device signing in
// through the world's gateway as the Email+ key-value pairs say (OAU-05).
func (f *Framework) OAuthThroughGateway() *device.OAuthConfig {
	u := f.Lab.DeviceURL()
	return &device.OAuthConfig{AuthorityURL: u + "/proxyservice", Resource: u}
}

// NewOAuthDevice is NewDevice for a device signing in with OAuth through
// the gateway.
func (f *Framework) NewOAuthDevice(user string, opts ...func(*device.Config)) *device.Device {
	return f.NewDevice(user, append([]func(*device.Config){func(c *device.Config) { c.OAuth = f.OAuthThroughGateway() }}, opts...)...)
}

// ClientFrom is an HTTP client dialling from the loopback address src
// (127.0.0.3: somewhere conditional access does not trust), trusting the
// lab's throwaway certificates.
func ClientFrom(src string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Timeout: 20 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // lab certificates
}
