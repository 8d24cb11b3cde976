// Package exchange is a Testcontainers module for gatehouse's fake
// Exchange ActiveSync server (`gatehouse exchange`): generated mailboxes,
// the EAS endpoint with /health, and an admin API, all over TLS with a
// self-signed certificate.
package exchange

import (
	"context"
	"fmt"
	"strconv"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
)

// Container ports.
const (
	ActiveSyncPort = "8700/tcp" // /Microsoft-Server-ActiveSync and /health
	AdminPort      = "8701/tcp" // admin API (/admin/v1)
)

// EASPath is the ActiveSync endpoint's path.
const EASPath = "/Microsoft-Server-ActiveSync"

// User is a mailbox with Basic-auth credentials.
type User struct{ Name, Password string }

type options struct {
	adminToken string
	seed       uint64
	numUsers   int
	messages   *int
	domain     string
	users      []User
	args       []string
}

// Option configures the fake Exchange; it is also a
// testcontainers.ContainerCustomizer.
type Option func(*options) error

// Customize is a no-op: Run reads the options itself.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithAdminToken sets the admin API token (default: a random one),
// passed as GATEHOUSE_EXCHANGE_ADMIN_TOKEN.
func WithAdminToken(token string) Option {
	return func(o *options) error { o.adminToken = token; return nil }
}

// WithSeed seeds the generated users and mail (default 1).
func WithSeed(seed uint64) Option { return func(o *options) error { o.seed = seed; return nil } }

// WithDemoUsers generates n demo users (user1..userN, random passwords
// printed by the container) when WithUsers is not given; default 3.
func WithDemoUsers(n int) Option { return func(o *options) error { o.numUsers = n; return nil } }

// WithUsers sets the mailboxes (address name@domain).
func WithUsers(users ...User) Option {
	return func(o *options) error { o.users = append(o.users, users...); return nil }
}

// WithMessages sets the generated messages per Inbox (-1: none).
func WithMessages(n int) Option { return func(o *options) error { o.messages = &n; return nil } }

// WithDomain sets the mail domain (default example.test).
func WithDomain(domain string) Option {
	return func(o *options) error { o.domain = domain; return nil }
}

// WithArgs appends raw `gatehouse exchange` flags.
func WithArgs(args ...string) Option {
	return func(o *options) error { o.args = append(o.args, args...); return nil }
}

// Container is a running fake Exchange.
type Container struct {
	testcontainers.Container
	adminToken string
}

// Run starts the fake Exchange from img and waits until /health answers.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	var o options
	for _, opt := range opts {
		if apply, ok := opt.(Option); ok {
			if err := apply(&o); err != nil {
				return nil, err
			}
		}
	}
	if o.adminToken == "" {
		o.adminToken = ctr.RandomToken()
	}
	args := []string{"exchange", "--listen", "0.0.0.0:8700", "--admin-listen", "0.0.0.0:8701", "--allow-non-loopback", "--min-heartbeat", "1"}
	if o.seed != 0 {
		args = append(args, "--seed", strconv.FormatUint(o.seed, 10))
	}
	if o.numUsers != 0 {
		args = append(args, "--users", strconv.Itoa(o.numUsers))
	}
	if o.messages != nil {
		args = append(args, "--messages", strconv.Itoa(*o.messages))
	}
	if o.domain != "" {
		args = append(args, "--domain", o.domain)
	}
	for _, u := range o.users {
		args = append(args, "--user", u.Name+"="+u.Password)
	}
	args = append(args, o.args...)

	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(args...),
		testcontainers.WithExposedPorts(ActiveSyncPort, AdminPort),
		testcontainers.WithEnv(map[string]string{"GATEHOUSE_EXCHANGE_ADMIN_TOKEN": o.adminToken}),
		testcontainers.WithWaitStrategy(
			wait.ForHTTP("/health").WithPort(ActiveSyncPort).WithTLS(true, ctr.InsecureTLS()),
			wait.ForHTTP("/").WithPort(AdminPort).WithTLS(true, ctr.InsecureTLS()).WithStatusCodeMatcher(ctr.Answers),
		),
	}
	moduleOpts = append(moduleOpts, opts...)

	c, err := testcontainers.Run(ctx, img, moduleOpts...)
	var out *Container
	if c != nil {
		out = &Container{Container: c, adminToken: o.adminToken}
	}
	if err != nil {
		return out, fmt.Errorf("run exchange: %w", err)
	}
	return out, nil
}

// URL is the server's base URL from the test's machine (/health lives
// there).
func (c *Container) URL(ctx context.Context) (string, error) {
	return ctr.HostURL(ctx, c, ActiveSyncPort)
}

// ActiveSyncURL is URL + /Microsoft-Server-ActiveSync.
func (c *Container) ActiveSyncURL(ctx context.Context) (string, error) {
	u, err := c.URL(ctx)
	return u + EASPath, err
}

// AdminURL is the admin API's base URL (without /admin/v1).
func (c *Container) AdminURL(ctx context.Context) (string, error) {
	return ctr.HostURL(ctx, c, AdminPort)
}

// AdminToken is the admin API's bearer token.
func (c *Container) AdminToken() string { return c.adminToken }
