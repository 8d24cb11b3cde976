// Package kdc is a Testcontainers module for gatehouse's fake Kerberos
// KDC (`gatehouse kdc`): AS, TGS, S4U2Self/S4U2Proxy and cross-realm on
// UDP and TCP. Without principals it serves demo ones
// (alice=alice-demo, HTTP/sentry1_eas_kcd=sentry-demo, ...).
package kdc

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Container ports: the KDC answers on both.
const (
	TCPPort = "8888/tcp"
	UDPPort = "8888/udp"
)

type options struct {
	realm      string
	principals []string
	delegate   []string
	args       []string
}

// Option configures the fake KDC; it is also a
// testcontainers.ContainerCustomizer.
type Option func(*options) error

// Customize is a no-op: Run reads the options itself.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithRealm sets the realm served (default CORP.EXAMPLE).
func WithRealm(realm string) Option { return func(o *options) error { o.realm = realm; return nil } }

// WithPrincipal adds a principal with a password (the demo principals are
// added only when none is given).
func WithPrincipal(name, password string) Option {
	return func(o *options) error { o.principals = append(o.principals, name+"="+password); return nil }
}

// WithDelegation allows service constrained delegation to the SPNs.
func WithDelegation(service string, spns ...string) Option {
	return func(o *options) error {
		o.delegate = append(o.delegate, service+"="+strings.Join(spns, ","))
		return nil
	}
}

// WithArgs appends raw `gatehouse kdc` flags (--trust, --ticket-lifetime).
func WithArgs(args ...string) Option {
	return func(o *options) error { o.args = append(o.args, args...); return nil }
}

// Container is a running fake KDC.
type Container struct {
	testcontainers.Container
	realm string
}

// Run starts the fake KDC from img and waits until it listens.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	o := options{realm: "CORP.EXAMPLE"}
	for _, opt := range opts {
		if apply, ok := opt.(Option); ok {
			if err := apply(&o); err != nil {
				return nil, err
			}
		}
	}
	args := []string{"kdc", "--listen", "0.0.0.0:8888", "--allow-non-loopback", "--realm", o.realm}
	for _, p := range o.principals {
		args = append(args, "--principal", p)
	}
	for _, d := range o.delegate {
		args = append(args, "--delegate", d)
	}
	args = append(args, o.args...)
	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(args...),
		testcontainers.WithExposedPorts(TCPPort, UDPPort),
		testcontainers.WithWaitStrategy(wait.ForLog("krb5.conf:"), wait.ForListeningPort(TCPPort).SkipInternalCheck()),
	}
	moduleOpts = append(moduleOpts, opts...)
	c, err := testcontainers.Run(ctx, img, moduleOpts...)
	var out *Container
	if c != nil {
		out = &Container{Container: c, realm: o.realm}
	}
	if err != nil {
		return out, fmt.Errorf("run kdc: %w", err)
	}
	return out, nil
}

// Realm is the realm served.
func (c *Container) Realm() string { return c.realm }

// Addr is the KDC's TCP host:port from the test's machine.
func (c *Container) Addr(ctx context.Context) (string, error) { return c.addr(ctx, TCPPort) }

// UDPAddr is the KDC's UDP host:port from the test's machine.
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

// Krb5Conf is a krb5.conf for this realm with the KDC's TCP address
// (UDP off: the mapped UDP port differs).
func (c *Container) Krb5Conf(ctx context.Context) (string, error) {
	addr, err := c.Addr(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("[libdefaults]\n default_realm = %s\n udp_preference_limit = 1\n dns_lookup_kdc = false\n\n[realms]\n %s = {\n  kdc = tcp/%s\n }\n",
		c.realm, c.realm, addr), nil
}
