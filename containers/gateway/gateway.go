// Package gateway is a Testcontainers module for gatehouse's reference
// gateway (`gatehouse gateway`): device-facing ActiveSync over TLS, the
// UEM notification listener and the admin API. Its configuration comes
// from the UEM it is given (WithUEM).
package gateway

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
)

// Container ports (bridge networking).
const (
	DevicePort = "8443/tcp" // device-facing ActiveSync
	NotifyPort = "9090/tcp" // UEM notifications
	AdminPort  = "9091/tcp" // admin API
)

// Paths on the gateway's listeners.
const (
	EASPath          = "/Microsoft-Server-ActiveSync"
	NotificationPath = "/uem/v1/notifications"
)

type options struct {
	uemURL, uemToken, notifySecret string
	adminToken                     string
	failOpen                       *bool
	check, resync, persist         time.Duration
	upstream                       string
	hostNetwork                    bool
	stablePorts                    bool
	args                           []string
}

// Option configures the gateway; it is also a
// testcontainers.ContainerCustomizer.
type Option func(*options) error

// Customize is a no-op: Run reads the options itself.
func (o Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithUEM points the gateway at a UEM's gateway API (as reachable from
// inside the container), with its UEM credential and the secret that
// verifies notifications (both passed by environment variable). The UEM's
// certificate is not verified.
func WithUEM(url, token, notifySecret string) Option {
	return func(o *options) error {
		o.uemURL, o.uemToken, o.notifySecret = url, token, notifySecret
		return nil
	}
}

// WithAdminToken sets the admin API token (default: a random one).
func WithAdminToken(token string) Option {
	return func(o *options) error { o.adminToken = token; return nil }
}

// WithFailOpen lets new devices in (true) or blocks them while the UEM
// is unreachable.
func WithFailOpen(open bool) Option { return func(o *options) error { o.failOpen = &open; return nil } }

// WithIntervals sets the UEM check, resync and device-list persist
// intervals (zero keeps the gateway's default; persist >= 10s).
func WithIntervals(check, resync, persist time.Duration) Option {
	return func(o *options) error { o.check, o.resync, o.persist = check, resync, persist; return nil }
}

// WithUpstream sets the ActiveSync server used until the UEM's
// configuration names one (not verified).
func WithUpstream(url string) Option { return func(o *options) error { o.upstream = url; return nil } }

// WithHostNetwork runs the container in the host's network namespace,
// listening on free 127.0.0.1 ports chosen at Run: the gateway then
// reaches servers on the host's loopback (in-process fakes) and keeps its
// URLs across restarts.
func WithHostNetwork() Option { return func(o *options) error { o.hostNetwork = true; return nil } }

// WithStablePorts publishes the device, notification and admin ports
// (bridge networking) on free 127.0.0.1 host ports chosen at Run instead
// of ports Docker picks at every start: the URLs stay the same across
// `docker restart`, so devices made before a restart reach the gateway
// after it.
func WithStablePorts() Option { return func(o *options) error { o.stablePorts = true; return nil } }

// WithArgs appends raw `gatehouse gateway` flags.
func WithArgs(args ...string) Option {
	return func(o *options) error { o.args = append(o.args, args...); return nil }
}

// Container is a running gateway.
type Container struct {
	testcontainers.Container
	adminToken string
	hostAddrs  []string // host network: device, notify, admin
}

// Run starts the gateway from img and waits until it serves devices.
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
	addrs := []string{"0.0.0.0:8443", "0.0.0.0:9090", "0.0.0.0:9091"}
	if o.hostNetwork {
		for i := range addrs {
			a, err := freeLoopback()
			if err != nil {
				return nil, fmt.Errorf("run gateway: %w", err)
			}
			addrs[i] = a
		}
	}
	args := []string{"gateway", "--listen", addrs[0], "--notify-listen", addrs[1], "--admin-listen", addrs[2],
		"--data-dir", "/data", "--uem-insecure", "--upstream-insecure",
		// Every simulated device reaches the container from the Docker
		// bridge, one remote address: the per-source limits would throttle
		// a whole fleet as one host. WithArgs can set them again.
		"--device-connections-per-minute", "0", "--device-requests-per-second", "0"}
	if o.uemURL != "" {
		args = append(args, "--uem-url", o.uemURL)
	}
	if o.upstream != "" {
		args = append(args, "--upstream", o.upstream)
	}
	if o.failOpen != nil {
		args = append(args, "--fail-open="+strconv.FormatBool(*o.failOpen))
	}
	// Last-seen reports go at the resync pace, as in the lab, so that a
	// test world sees Last Sync Time move (ASA-06).
	for flag, d := range map[string]time.Duration{"--check-interval": o.check, "--resync-interval": o.resync, "--last-seen-interval": o.resync, "--persist-interval": o.persist} {
		if d > 0 {
			args = append(args, flag, d.String())
		}
	}
	args = append(args, o.args...)

	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(args...),
		testcontainers.WithEnv(map[string]string{"GATEHOUSE_UEM_TOKEN": o.uemToken,
			"GATEHOUSE_UEM_NOTIFY_SECRET": o.notifySecret, "GATEHOUSE_ADMIN_TOKEN": o.adminToken}),
	}
	if o.hostNetwork {
		// No mapped ports to probe: the gateway prints its URLs once its
		// listeners are up.
		moduleOpts = append(moduleOpts,
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.NetworkMode = "host" }),
			testcontainers.WithWaitStrategy(wait.ForLog("device URL:")))
	} else {
		if o.stablePorts {
			bind, err := stableBindings(DevicePort, NotifyPort, AdminPort)
			if err != nil {
				return nil, fmt.Errorf("run gateway: %w", err)
			}
			moduleOpts = append(moduleOpts, testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				if hc.PortBindings == nil {
					hc.PortBindings = network.PortMap{}
				}
				maps.Copy(hc.PortBindings, bind)
			}))
		}
		moduleOpts = append(moduleOpts,
			testcontainers.WithExposedPorts(DevicePort, NotifyPort, AdminPort),
			// The admin API's status answers once the device cache is
			// initialised. (OPTIONS on the device URL is no health check:
			// the gateway proxies it to the ActiveSync server.)
			testcontainers.WithWaitStrategy(
				wait.ForLog("device URL:"),
				wait.ForHTTP("/admin/v1/status").WithPort(AdminPort).WithTLS(true, ctr.InsecureTLS()).
					WithHeaders(map[string]string{"Authorization": "Bearer " + o.adminToken}),
				wait.ForListeningPort(DevicePort).SkipInternalCheck(),
			))
	}
	moduleOpts = append(moduleOpts, opts...)

	c, err := testcontainers.Run(ctx, img, moduleOpts...)
	var out *Container
	if c != nil {
		out = &Container{Container: c, adminToken: o.adminToken}
		if o.hostNetwork {
			out.hostAddrs = addrs
		}
	}
	if err != nil {
		return out, fmt.Errorf("run gateway: %w", err)
	}
	return out, nil
}

func (c *Container) url(ctx context.Context, i int, port string) (string, error) {
	if c.hostAddrs != nil {
		return "https://" + c.hostAddrs[i], nil
	}
	return ctr.HostURL(ctx, c, port)
}

// URL is the device-facing base URL from the test's machine (what
// devices and lab.Config.GatewayURL are given). With bridge networking
// the host port changes when the container restarts: read it again.
func (c *Container) URL(ctx context.Context) (string, error) { return c.url(ctx, 0, DevicePort) }

// ActiveSyncURL is URL + /Microsoft-Server-ActiveSync.
func (c *Container) ActiveSyncURL(ctx context.Context) (string, error) {
	u, err := c.URL(ctx)
	return u + EASPath, err
}

// NotifyURL is where a UEM on the test's machine pushes notifications.
func (c *Container) NotifyURL(ctx context.Context) (string, error) {
	u, err := c.url(ctx, 1, NotifyPort)
	return u + NotificationPath, err
}

// AdminURL is the admin API's base URL.
func (c *Container) AdminURL(ctx context.Context) (string, error) { return c.url(ctx, 2, AdminPort) }

// AdminToken is the admin API's bearer token.
func (c *Container) AdminToken() string { return c.adminToken }

// stableBindings binds each container port to a free 127.0.0.1 port.
func stableBindings(ports ...string) (network.PortMap, error) {
	bind := network.PortMap{}
	taken := map[string]bool{}
	for _, p := range ports {
		var hostPort string
		for hostPort == "" || taken[hostPort] { // released ports may come back
			addr, err := freeLoopback()
			if err != nil {
				return nil, err
			}
			_, hostPort, _ = net.SplitHostPort(addr)
		}
		taken[hostPort] = true
		cp, err := network.ParsePort(p)
		if err != nil {
			return nil, err
		}
		bind[cp] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hostPort}}
	}
	return bind, nil
}

// freeLoopback picks a free 127.0.0.1 port below the ephemeral range
// (bound and released; the container binds it a moment later). Below
// 32768 because the kernel and Docker's port allocator hand out
// ephemeral ports: while the gateway restarts, its released port could
// otherwise go to another container's published port.
func freeLoopback() (string, error) {
	var err error
	for range 100 {
		var ln net.Listener
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(20000+rand.IntN(12000)))
		if ln, err = net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("no free loopback port: %w", err)
}
