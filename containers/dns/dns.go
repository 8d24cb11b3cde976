// Package dns is a Testcontainers module for gatehouse's fake
// authoritative DNS server (`gatehouse dns`): host records and Kerberos
// SRV/TXT records on UDP and TCP.
package dns

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Container ports: the server answers on both.
const (
	TCPPort = "5353/tcp"
	UDPPort = "5353/udp"
)

type options struct{ args []string }

// Option configures the fake DNS server; it is also a
// testcontainers.ContainerCustomizer.
type Option func(*options) error

// Customize is a no-op: Run reads the options itself.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithZone serves zone authoritatively.
func WithZone(zone string) Option {
	return func(o *options) error { o.args = append(o.args, "--zone", zone); return nil }
}

// WithHost adds A/AAAA records.
func WithHost(name string, ips ...string) Option {
	return func(o *options) error {
		o.args = append(o.args, "--host", name+"="+strings.Join(ips, ","))
		return nil
	}
}

// WithKDC adds the Kerberos SRV records of realm pointing at target
// (host[:port]).
func WithKDC(realm, target string) Option {
	return func(o *options) error { o.args = append(o.args, "--kdc", realm+"="+target); return nil }
}

// WithArgs appends raw `gatehouse dns` flags (faults: --delay, --servfail).
func WithArgs(args ...string) Option {
	return func(o *options) error { o.args = append(o.args, args...); return nil }
}

// Container is a running fake DNS server.
type Container struct{ testcontainers.Container }

// Run starts the fake DNS server from img and waits until it listens.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	var o options
	for _, opt := range opts {
		if apply, ok := opt.(Option); ok {
			if err := apply(&o); err != nil {
				return nil, err
			}
		}
	}
	args := append([]string{"dns", "--listen", "0.0.0.0:5353", "--allow-non-loopback"}, o.args...)
	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(args...),
		testcontainers.WithExposedPorts(TCPPort, UDPPort),
		testcontainers.WithWaitStrategy(wait.ForLog("DNS:"), wait.ForListeningPort(TCPPort).SkipInternalCheck()),
	}
	moduleOpts = append(moduleOpts, opts...)
	c, err := testcontainers.Run(ctx, img, moduleOpts...)
	var out *Container
	if c != nil {
		out = &Container{Container: c}
	}
	if err != nil {
		return out, fmt.Errorf("run dns: %w", err)
	}
	return out, nil
}

// Addr is the server's TCP host:port from the test's machine.
func (c *Container) Addr(ctx context.Context) (string, error) { return c.addr(ctx, TCPPort) }

// UDPAddr is the server's UDP host:port from the test's machine.
func (c *Container) UDPAddr(ctx context.Context) (string, error) { return c.addr(ctx, UDPPort) }

func (c *Container) addr(ctx context.Context, port string) (string, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return "", err
	}
	p, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, p.Port()), nil
}
