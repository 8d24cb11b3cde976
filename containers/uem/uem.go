// Package uem is a Testcontainers module for gatehouse's fake UEM
// (`gatehouse uem`): its gateway API (/api/v1) and admin API (/admin/v1),
// both over TLS with a self-signed certificate.
package uem

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
	fakeuem "github.com/gatehouse-lab/gatehouse/fakes/uem"
)

// Container ports.
const (
	GatewayAPIPort = "8600/tcp" // gateway-facing API (/api/v1)
	AdminPort      = "8601/tcp" // admin API (/admin/v1)
)

const seedPath = "/etc/gatehouse/uem-seed.json"

type options struct {
	adminToken string
	seed       []byte
	generate   int
	args       []string
}

// Option configures the fake UEM; it is also a
// testcontainers.ContainerCustomizer so that it mixes with generic ones.
type Option func(*options) error

// Customize is a no-op: Run reads the options itself.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithAdminToken sets the admin API token (default: a random one, see
// Container.AdminToken). It is passed as GATEHOUSE_UEM_ADMIN_TOKEN.
func WithAdminToken(token string) Option {
	return func(o *options) error { o.adminToken = token; return nil }
}

// WithSeed loads users, devices, policies, gateway entries and
// associations at start (the `gatehouse uem --seed` format).
func WithSeed(seed fakeuem.Seed) Option {
	return func(o *options) error {
		b, err := json.Marshal(seed)
		if err != nil {
			return fmt.Errorf("uem: seed: %w", err)
		}
		o.seed = b
		return nil
	}
}

// WithGenerate generates n users with one registered, allowed device each.
func WithGenerate(n int) Option {
	return func(o *options) error { o.generate = n; return nil }
}

// WithArgs appends raw `gatehouse uem` flags (--notify-attempts, ...).
func WithArgs(args ...string) Option {
	return func(o *options) error { o.args = append(o.args, args...); return nil }
}

// Container is a running fake UEM.
type Container struct {
	testcontainers.Container
	adminToken string
}

// Run starts the fake UEM from img (a gatehouse image, e.g.
// containers.DefaultImage) and waits until its admin API answers.
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
	args := []string{"uem", "--gateway-listen", "0.0.0.0:8600", "--admin-listen", "0.0.0.0:8601", "--allow-non-loopback", "--notify-insecure"}
	var files []testcontainers.ContainerFile
	if o.seed != nil {
		args = append(args, "--seed", seedPath)
		files = append(files, testcontainers.ContainerFile{Reader: strings.NewReader(string(o.seed)), ContainerFilePath: seedPath, FileMode: 0o644})
	}
	if o.generate > 0 {
		args = append(args, "--generate", fmt.Sprint(o.generate))
	}
	args = append(args, o.args...)

	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(args...),
		testcontainers.WithExposedPorts(GatewayAPIPort, AdminPort),
		testcontainers.WithEnv(map[string]string{"GATEHOUSE_UEM_ADMIN_TOKEN": o.adminToken}),
		testcontainers.WithWaitStrategy(wait.ForAll(
			wait.ForHTTP(fakeuem.AdminPrefix+"/preferences").WithPort(AdminPort).WithTLS(true, ctr.InsecureTLS()).
				WithHeaders(map[string]string{"Authorization": "Bearer " + o.adminToken}),
			wait.ForHTTP("/").WithPort(GatewayAPIPort).WithTLS(true, ctr.InsecureTLS()).WithStatusCodeMatcher(ctr.Answers),
		)),
	}
	if len(files) > 0 {
		moduleOpts = append(moduleOpts, testcontainers.WithFiles(files...))
	}
	moduleOpts = append(moduleOpts, opts...)

	c, err := testcontainers.Run(ctx, img, moduleOpts...)
	var out *Container
	if c != nil {
		out = &Container{Container: c, adminToken: o.adminToken}
	}
	if err != nil {
		return out, fmt.Errorf("run uem: %w", err)
	}
	return out, nil
}

// GatewayAPIURL is the gateway API's base URL from the test's machine
// (what a gateway outside Docker is given as --uem-url).
func (c *Container) GatewayAPIURL(ctx context.Context) (string, error) {
	return ctr.HostURL(ctx, c, GatewayAPIPort)
}

// AdminURL is the admin API's base URL (without /admin/v1).
func (c *Container) AdminURL(ctx context.Context) (string, error) {
	return ctr.HostURL(ctx, c, AdminPort)
}

// AdminToken is the admin API's bearer token.
func (c *Container) AdminToken() string { return c.adminToken }
