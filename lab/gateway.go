package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/internal/loopback"
)

// gatewayConfig is the bootstrap configuration the lab gives its gateway.
func (l *Lab) gatewayConfig(listen, notify, adm string) gateway.Config {
	cfg := gateway.Defaults()
	cfg.Listen, cfg.NotifyListen, cfg.AdminListen = listen, notify, adm
	cfg.DataDir = l.DataDir()
	cfg.UEM = gateway.UEMConfig{URL: l.UEM.GatewayURL(), Token: l.cfg.GatewayToken, NotifySecret: l.cfg.NotifySecret, Insecure: true}
	cfg.UpstreamInsecure = true
	cfg.UpstreamHTTP2 = l.cfg.HTTP2
	cfg.AdminToken = l.cfg.GatewayAdminToken
	cfg.FailOpen = *l.cfg.FailOpen
	cfg.CheckInterval, cfg.ResyncInterval, cfg.PersistInterval = l.cfg.CheckInterval, l.cfg.ResyncInterval, l.cfg.PersistInterval
	cfg.LastSeenInterval = l.cfg.ResyncInterval
	cfg.StatsInterval = l.cfg.StatsInterval
	cfg.Audit = l.cfg.Audit
	cfg.Clock = l.cfg.Clock
	if l.DNS != nil {
		cfg.DNSServer = l.DNS.Addr() // KDC discovery (KDC-01) asks the lab's DNS
		cfg.KerberosRetry = 200 * time.Millisecond
	}
	return cfg
}

// inProcess runs gateway.Server in this process. Restarts reuse the
// addresses first bound.
type inProcess struct {
	l      *Lab
	mu     sync.Mutex
	srv    *gateway.Server
	addrs  [3]string // device, notify, admin host:port once bound
	tunnel string    // the AppTunnel listener's host:port once bound
}

// listen binds the gateway's listeners; "127.0.0.1:0" becomes a port
// below the ephemeral range, which a restart binds again (restartAddrs).
func (g *inProcess) listen() error {
	var srv *gateway.Server
	var err error
	for range 5 { // another process may bind a port Port found free first
		if srv, err = g.listenOnce(); !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.srv = srv
	g.addrs = [3]string{hostPort(srv.DeviceURL()), hostPort(srv.NotifyURL()), hostPort(srv.AdminURL())}
	g.tunnel = hostPort(srv.AppTunnelURL())
	g.mu.Unlock()
	return nil
}

func (g *inProcess) listenOnce() (*gateway.Server, error) {
	addrs, err := restartAddrs(g.l.cfg.GatewayListen, g.l.cfg.NotifyListen, g.l.cfg.GatewayAdminListen, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg := g.l.gatewayConfig(addrs[0], addrs[1], addrs[2])
	cfg.AppTunnelListen = addrs[3] // docs/apptunnel.md
	srv, err := gateway.New(cfg, g.l.cfg.Logger.With("component", "gateway"))
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(); err != nil {
		srv.Shutdown(context.Background())
		return nil, err
	}
	return srv, nil
}

// restartAddrs gives each "127.0.0.1:0" a port below the ephemeral range
// (internal/loopback): a restart binds the gateway's ports again, and a
// port bind(0) gave could meanwhile go to another test package's server
// (which then answered the devices) or be any connection's source port
// (the start failed with "address already in use").
func restartAddrs(addrs ...string) ([]string, error) {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		var err error
		if out[i], err = loopback.Host(a); err != nil {
			return nil, fmt.Errorf("lab: gateway address %q: %w", a, err)
		}
	}
	return out, nil
}

// pickAddr turns another interface's host:0 into a free host:port (bound
// and released: the gateway binds it a moment later).
func pickAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (g *inProcess) start(ctx context.Context) error {
	g.mu.Lock()
	srv := g.srv
	g.mu.Unlock()
	if srv == nil {
		cfg := g.l.gatewayConfig(g.addrs[0], g.addrs[1], g.addrs[2])
		cfg.AppTunnelListen = g.tunnel
		var err error
		if srv, err = gateway.New(cfg, g.l.cfg.Logger.With("component", "gateway")); err != nil {
			return err
		}
	}
	if err := srv.Start(ctx); err != nil {
		// A failed start leaves the persistent list alone; the next
		// start makes a new Server (a stopped one cannot start again).
		srv.Shutdown(context.Background())
		g.mu.Lock()
		if g.srv == srv {
			g.srv = nil
		}
		g.mu.Unlock()
		return err
	}
	g.mu.Lock()
	g.srv = srv
	g.mu.Unlock()
	return nil
}

func (g *inProcess) stop(ctx context.Context) error {
	g.mu.Lock()
	srv := g.srv
	g.srv = nil
	g.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

func (g *inProcess) kill() error       { return ErrNotSupported }
func (g *inProcess) deviceURL() string { return "https://" + g.addrs[0] }
func (g *inProcess) notifyURL() string { return "https://" + g.addrs[1] + gateway.NotificationPath }
func (g *inProcess) adminURL() string  { return "https://" + g.addrs[2] }

// hostPort is the host:port of a URL the gateway reports.
func hostPort(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// subprocess runs `<binary> gateway ...` with fixed addresses.
type subprocess struct {
	l      *Lab
	binary string
	addrs  [3]string
	tunnel string // the AppTunnel listener's host:port (docs/apptunnel.md)
	log    string // the gateway's log file

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd exits
}

func newSubprocess(l *Lab) (*subprocess, error) {
	bin := l.cfg.Binary
	if bin == "" {
		var err error
		if bin, err = BuildGateway(context.Background(), l.dir); err != nil {
			return nil, err
		}
	}
	sp := &subprocess{l: l, binary: bin, log: filepath.Join(l.dir, "gateway.log")}
	// The subprocess binds them a moment later, and again at each restart.
	addrs, err := restartAddrs(l.cfg.GatewayListen, l.cfg.NotifyListen, l.cfg.GatewayAdminListen, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		if addrs[i], err = pickAddr(a); err != nil {
			return nil, err
		}
	}
	copy(sp.addrs[:], addrs)
	sp.tunnel = addrs[3]
	return sp, nil
}

func (g *subprocess) start(ctx context.Context) error {
	cfg := g.l.gatewayConfig(g.addrs[0], g.addrs[1], g.addrs[2])
	logf, err := os.OpenFile(g.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(g.binary, "gateway",
		"--listen", cfg.Listen, "--notify-listen", cfg.NotifyListen, "--admin-listen", cfg.AdminListen,
		"--data-dir", cfg.DataDir, "--uem-url", cfg.UEM.URL, "--uem-insecure", "--upstream-insecure",
		"--fail-open="+strconv.FormatBool(cfg.FailOpen), "--upstream-http2="+strconv.FormatBool(cfg.UpstreamHTTP2),
		"--check-interval", cfg.CheckInterval.String(), "--resync-interval", cfg.ResyncInterval.String(),
		"--last-seen-interval", cfg.LastSeenInterval.String(),
		"--persist-interval", cfg.PersistInterval.String(), "--stats-interval", cfg.StatsInterval.String())
	cmd.Args = append(cmd.Args, "--apptunnel-listen", g.tunnel)
	if cfg.Audit {
		cmd.Args = append(cmd.Args, "--audit")
	}
	if cfg.DNSServer != "" {
		cmd.Args = append(cmd.Args, "--dns-server", cfg.DNSServer, "--kerberos-retry", cfg.KerberosRetry.String())
	}
	cmd.Env = append(os.Environ(), "GATEHOUSE_UEM_TOKEN="+cfg.UEM.Token, "GATEHOUSE_UEM_NOTIFY_SECRET="+cfg.UEM.NotifySecret,
		"GATEHOUSE_ADMIN_TOKEN="+cfg.AdminToken)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("lab: start gateway subprocess: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	g.mu.Lock()
	g.cmd, g.done = cmd, done
	g.mu.Unlock()
	if err := waitReady(ctx, admin.NewClient(g.adminURL(), cfg.AdminToken, g.l.hc), done); err != nil {
		g.kill()
		return fmt.Errorf("lab: gateway subprocess (log %s): %w", g.log, err)
	}
	return nil
}

// waitReady polls the admin API until the gateway answers (it serves only
// once its cache is initialised), or the process exits.
func waitReady(ctx context.Context, c *admin.Client, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.Status(rctx)
		rcancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (g *subprocess) signal(ctx context.Context, sig os.Signal) error {
	g.mu.Lock()
	cmd, done := g.cmd, g.done
	g.cmd = nil
	g.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

func (g *subprocess) stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return g.signal(ctx, syscall.SIGTERM)
}

func (g *subprocess) kill() error { return g.signal(context.Background(), syscall.SIGKILL) }

func (g *subprocess) deviceURL() string { return "https://" + g.addrs[0] }
func (g *subprocess) notifyURL() string { return "https://" + g.addrs[1] + gateway.NotificationPath }
func (g *subprocess) adminURL() string  { return "https://" + g.addrs[2] }

// BuildGateway builds the gatehouse binary into dir (go build, from the
// module this package belongs to) and returns its path. It needs the Go
// toolchain and the source tree; a compiled suite is given a binary.
func BuildGateway(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "gatehouse")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/gatehouse-lab/gatehouse/cmd/gatehouse")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lab: go build gatehouse: %w: %s", err, msg)
	}
	return out, nil
}

// RunRestartCommand runs command (sh -c) to restart a gateway someone
// else runs, then waits, at most a minute, until its device URL answers
// again. Worlds built outside this package (the scenarios' remote world)
// restart their gateway with it.
func RunRestartCommand(ctx context.Context, command, deviceURL string, hc *http.Client) error {
	return runRestartCmd(ctx, command, deviceURL, hc)
}

// RunKillCommand runs command (sh -c) to kill a gateway someone else
// runs; it does not wait for anything, as a dead gateway answers nothing.
func RunKillCommand(ctx context.Context, command string) error {
	if command == "" {
		return ErrNotSupported
	}
	if msg, err := exec.CommandContext(ctx, "sh", "-c", command).CombinedOutput(); err != nil {
		return fmt.Errorf("lab: kill command: %w: %s", err, msg)
	}
	return nil
}

// runRestartCmd restarts (or starts) an external gateway with a shell
// command and waits until its device-facing URL accepts connections again.
func runRestartCmd(ctx context.Context, command, deviceURL string, hc *http.Client) error {
	if command == "" {
		return ErrNotSupported
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: restart command: %w: %s", err, msg)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, deviceURL+"/Microsoft-Server-ActiveSync", nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: gateway not back after the restart command: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
