package framework

import (
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/onsi/gomega"
)

// Feature labels of integrated mode and several mailboxes per device.
const (
	// FeatureIntegrated: the integrated connector; Exchange itself
	// enforces the UEM's decisions (INT).
	FeatureIntegrated = "integrated"
	// FeatureMultiMailbox: several ActiveSync accounts on one device (MMB).
	FeatureMultiMailbox = "multi-mailbox"
)

// WithIntegrated starts the integrated connector beside the gateway
// (lab.Config.Integrated); local worlds only.
func WithIntegrated() Option {
	return WithLabConfig(func(c *lab.Config) { c.Integrated = true })
}

// NewDirectDevice makes a device of user that talks to Exchange itself,
// not through the gateway: a device of an integrated deployment.
func (f *Framework) NewDirectDevice(user string, opts ...func(*device.Config)) *device.Device {
	d := f.NewDevice(user, opts...) // for its id and credentials
	cfg := d.Config()
	direct, err := device.New(cfg, f.Lab.Exchange.URL(), f.Lab.HTTPClient())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	f.attachOnFailure(direct)
	return direct
}
