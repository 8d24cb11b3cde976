package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/internal/clock"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Mode says how the gateway under test runs.
type Mode = lab.Mode

// WorldConfig is what every world of a campaign shares.
type WorldConfig struct {
	Mode   Mode   // lab.InProcess (default), lab.Subprocess, lab.External
	Binary string // Subprocess: the gatehouse binary (built once when empty)

	// External: the gateway's device and notification URLs and the
	// hooks that restart, kill and start it (sh -c), as the conformance
	// suite's. The fakes listen on the fixed addresses below, which the
	// external gateway is configured with.
	GatewayURL, NotifyURL         string
	RestartCmd, KillCmd, StartCmd string
	UEMListen, ExchangeListen     string
	GatewayToken, NotifySecret    string
	UEMAdminToken, ExchangeToken  string

	// CheckInterval and ResyncInterval are the gateway's; the oracle's
	// allowed staleness is derived from them. Defaults 1 s and 2 s.
	CheckInterval, ResyncInterval time.Duration
	// Grace is added to every staleness bound for a loaded machine;
	// default 2 s.
	Grace time.Duration
	// RequestTimeout bounds one device operation; default 5 s.
	RequestTimeout time.Duration
	// DiskFaults (subprocess mode) puts the gateway's data directory on a
	// small tmpfs in a private mount namespace, for the disk_full and
	// disk_readonly steps (DiskFaultsSupported says whether it can).
	DiskFaults bool

	// IDPrefix starts every device id (letters and digits). An external
	// gateway keeps its cache between campaigns: give each campaign its
	// own (the CLI draws one in external mode). Default "C".
	IDPrefix string

	Logger *slog.Logger
}

func (c *WorldConfig) setDefaults() {
	if c.IDPrefix == "" {
		c.IDPrefix = "C"
	}
	if c.Mode == "" {
		c.Mode = lab.InProcess
	}
	if c.CheckInterval == 0 {
		c.CheckInterval = time.Second
	}
	if c.ResyncInterval == 0 {
		c.ResyncInterval = 2 * time.Second
	}
	if c.Grace == 0 {
		c.Grace = 2 * time.Second
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// staleness is how long after the UEM is reachable again (and the
// gateway running) a change must be known: a connectivity check, a
// resync, and the grace.
func (c *WorldConfig) staleness() time.Duration { return c.CheckInterval + c.ResyncInterval + c.Grace }

// world is one schedule's running world.
type world struct {
	cfg     WorldConfig
	lab     *lab.Lab
	sched   *Schedule
	devices []*device.Device
	users   []lab.User
	ids     []string // EAS device ids
	policy  [3]string
	// policyLen is each chaos policy's MinPasswordLength now: the mark
	// the oracle finds in a device's provisioned policy.
	policyLen map[string]int

	disk  *dataDisk      // nil without disk faults
	clock *clock.Jumping // the in-process gateway's wall clock (nil in other modes)
	dir   string         // the lab's directory when the world made it (disk faults)

	mu sync.Mutex
	uf uem.Faults
	xf exchange.Faults
}

// startWorld boots a lab for s.
func startWorld(ctx context.Context, cfg WorldConfig, s *Schedule) (*world, error) {
	lc := lab.Config{Mode: cfg.Mode, Binary: cfg.Binary, Users: s.Users, MessagesPerUser: 3, Seed: uint64(s.Seed) | 1,
		CheckInterval: cfg.CheckInterval, ResyncInterval: cfg.ResyncInterval, NotifyRetryDelay: 200 * time.Millisecond,
		Logger: cfg.Logger}
	if cfg.Mode != lab.External {
		// Listeners a fault closes and reopens (UEM and Exchange down, the
		// gateway's restarts) keep their port; outside the ephemeral range
		// no other connection on the machine can take it meanwhile.
		for _, a := range []*string{&lc.UEMListen, &lc.ExchangeListen, &lc.GatewayListen, &lc.NotifyListen, &lc.GatewayAdminListen} {
			*a = lowPort()
		}
	}
	var clk *clock.Jumping
	if cfg.Mode == lab.InProcess {
		clk = &clock.Jumping{}
		lc.Clock = clk
	}
	var disk *dataDisk
	if cfg.Mode == lab.Subprocess && cfg.DiskFaults {
		var err error
		if disk, err = prepareDisk(ctx, &lc); err != nil {
			return nil, err
		}
	}
	if cfg.Mode == lab.External {
		lc.GatewayURL, lc.NotifyURL = cfg.GatewayURL, cfg.NotifyURL
		lc.RestartCmd, lc.KillCmd, lc.StartCmd = cfg.RestartCmd, cfg.KillCmd, cfg.StartCmd
		lc.UEMListen, lc.ExchangeListen = cfg.UEMListen, cfg.ExchangeListen
		lc.GatewayToken, lc.NotifySecret = cfg.GatewayToken, cfg.NotifySecret
		lc.UEMAdminToken, lc.ExchangeAdminToken = cfg.UEMAdminToken, cfg.ExchangeToken
	}
	l, err := lab.Start(ctx, lc)
	// Fixed addresses (external mode) are free again a moment after the
	// last world closed them.
	for try := 0; err != nil && errors.Is(err, syscall.EADDRINUSE) && try < 50; try++ {
		time.Sleep(100 * time.Millisecond)
		l, err = lab.Start(ctx, lc)
	}
	if err != nil {
		if disk != nil {
			disk.close()
			os.RemoveAll(lc.Dir)
		}
		return nil, fmt.Errorf("chaos: world: %w", err)
	}
	w := &world{cfg: cfg, lab: l, sched: s, users: l.Users(), disk: disk, clock: clk}
	if disk != nil {
		w.dir = lc.Dir
	}
	// Device ids carry the seed: an external gateway keeps its cache
	// from one schedule to the next.
	for i := 0; i < s.Devices; i++ {
		u := w.users[i%len(w.users)]
		id := fmt.Sprintf("%s%dD%d", cfg.IDPrefix, uint64(s.Seed)%1_000_000_000, i)
		d, err := l.NewDevice(device.Config{ID: id, User: u.Name})
		if err != nil {
			w.close()
			return nil, fmt.Errorf("chaos: device %d: %w", i, err)
		}
		w.devices, w.ids = append(w.devices, d), append(w.ids, id)
	}
	w.policyLen = make(map[string]int)
	for i := 1; i <= 2; i++ {
		p := uemapi.NewPolicy(fmt.Sprintf("chaos-%d", i))
		p.PasswordRequired, p.MinPasswordLength = true, 6+i // 7 and 8; Exchange's own policy says 4
		cp, err := l.UEM.CreatePolicy(p)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("chaos: policy: %w", err)
		}
		w.policy[i], w.policyLen[cp.ID] = cp.ID, p.MinPasswordLength
	}
	return w, nil
}

func (w *world) close() error {
	err := w.lab.Close(context.Background())
	if w.disk != nil {
		w.disk.close()
		err = errors.Join(err, os.RemoveAll(w.dir))
	}
	return err
}

func (w *world) user(i int) string { return w.users[i%len(w.users)].Name }

// association is device i's association at the UEM (ok false: none).
func (w *world) association(i int) (uem.Association, bool) {
	a, err := w.lab.UEM.FindAssociation(w.ids[i], w.user(i))
	return a, err == nil
}

// policyMark is what device i must provision under: "default" (the
// server's policy or the UEM's default behaviour) or a chaos policy's
// password length.
func (w *world) policyMark(a uem.Association, ok bool) string {
	if !ok || a.PolicyID == "" {
		return markDefault
	}
	if n, ok := w.policyLen[a.PolicyID]; ok {
		return fmt.Sprintf("len%d", n)
	}
	return markDefault
}

// exchangeSeen is, per user/device, when Exchange last saw a command
// of the device (its partnership's last_sync): what reached it.
func (w *world) exchangeSeen() map[string]time.Time {
	m := make(map[string]time.Time)
	for _, p := range w.lab.Exchange.Partnerships() {
		m[strings.ToLower(p.User)+"/"+p.DeviceID] = p.LastSync
	}
	return m
}

func (w *world) exchangeKey(i int) string { return strings.ToLower(w.user(i)) + "/" + w.ids[i] }

// setUEMFaults changes the UEM's fault state with fn.
func (w *world) setUEMFaults(fn func(f *uem.Faults)) error {
	w.mu.Lock()
	fn(&w.uf)
	f := w.uf
	w.mu.Unlock()
	return w.lab.UEM.SetFaults(f)
}

func (w *world) setExchangeFaults(fn func(f *exchange.Faults)) error {
	w.mu.Lock()
	fn(&w.xf)
	f := w.xf
	w.mu.Unlock()
	return w.lab.Exchange.SetFaults(f)
}

func (w *world) uemFaults() uem.Faults {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.uf
}

// uemUnreachable: the gateway cannot ask the UEM (fail-open applies).
func uemUnreachable(f uem.Faults) bool {
	return f.Down || f.Hang || f.PartitionGatewayToUEM || f.ErrorRate > 0
}

// uemRefusing: the UEM answers and refuses the gateway (401, 403, 429).
func uemRefusing(f uem.Faults) bool { return f.AuthStatus != 0 && !uemUnreachable(f) }

// notifyBroken: UEM → gateway notifications do not arrive now.
func notifyBroken(f uem.Faults) bool { return f.DropNotifications || f.PartitionUEMToGateway }

// takePort binds the gateway's device port so that its next start fails.
func (w *world) takePort() (net.Listener, error) {
	u, err := url.Parse(w.lab.DeviceURL())
	if err != nil {
		return nil, err
	}
	// The old listener may linger for a moment after the stop.
	var ln net.Listener
	for range 50 {
		if ln, err = net.Listen("tcp", u.Host); err == nil {
			return ln, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("chaos: take the gateway port: %w", err)
}

var errSkip = errors.New("chaos: step not supported in this mode")

// lowPort is a free loopback address below the ephemeral port range
// (32768 and up on Linux), or 127.0.0.1:0 when none is found. Ports are
// handed out in turn, so two worlds of one campaign never draw the same.
func lowPort() string {
	for range 50 {
		p := 20000 + int(nextPort.Add(1)%12000)
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	return "127.0.0.1:0"
}

// nextPort is the last port lowPort handed out, from a random start (other
// campaigns on the machine start elsewhere).
var nextPort = func() *atomic.Int64 {
	var n atomic.Int64
	n.Store(rand.Int64N(12000))
	return &n
}()
