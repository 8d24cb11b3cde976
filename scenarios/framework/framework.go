package framework

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Local worlds use these gateway intervals so that time-based behaviour
// shows within a second or two (persist: the gateway's minimum).
const (
	CheckInterval   = time.Second
	ResyncInterval  = time.Second
	PersistInterval = 10 * time.Second
	// CRLValidity is how long the UEM's CRLs are current in every world,
	// so that a revocation reaches the gateway within it (DA-08).
	CRLValidity = time.Second
)

// ConformanceUsers is the number of demo users of the conformance world:
// every spec takes fresh ones (NewUser), so it bounds the suite's size.
const ConformanceUsers = 600

// Option changes how a Framework builds its worlds.
type Option func(*Framework)

// WithSubprocessGateway runs the local gateway as a subprocess of the
// gatehouse binary, so that it can be killed with SIGKILL; against a
// gateway under test the spec needs the kill and start commands.
func WithSubprocessGateway() Option { return func(f *Framework) { f.subprocess = true } }

// WithExtraExchanges gives the world n more Exchange servers, each the
// only server of its own ActiveSync service (Lab.ServiceName). The
// conformance world always has one.
func WithExtraExchanges(n int) Option { return func(f *Framework) { f.extraExchanges = n } }

// Framework is one Describe's world handle: BeforeEach gives each spec a
// world, AfterEach tears it down (local mode) or resets what the spec
// changed (conformance mode).
type Framework struct {
	// Lab is the spec's world when this process runs the fakes (locally
	// and in conformance mode); nil with remote fakes. Specs reach the
	// fakes through UEM and Exchange, which work in every mode.
	Lab *lab.Lab
	// UEM and Exchange drive the world's fakes: in-process, or over their
	// admin APIs with remote fakes (containers).
	UEM      UEM
	Exchange Exchange

	subprocess     bool
	extraExchanges int
	labEdit        func(*lab.Config) // WithLabConfig
	nextUser       int
	w              world
	devices        int // made in the current spec (attachOnFailure)
}

// shared is the conformance world, started once per process.
var shared struct {
	once sync.Once
	lab  *lab.Lab // nil with remote fakes
	w    world
	uem  UEM
	x    Exchange
	err  error
}

var (
	runNonce  = nonce()
	deviceSeq atomic.Int64
	userSeq   atomic.Int64 // conformance: users handed out across specs
	binary    struct {
		sync.Mutex
		path, dir string // dir: where this process built it (RemoveBuiltGateway)
		err       error
	}
)

// New registers the Framework's setup and teardown in the enclosing
// container.
func New(opts ...Option) *Framework {
	f := &Framework{}
	for _, o := range opts {
		o(f)
	}
	ginkgo.BeforeEach(f.beforeEach)
	return f
}

func (f *Framework) beforeEach(ctx ginkgo.SpecContext) {
	checkDeclared()
	labels := ginkgo.CurrentSpecReport().Labels()
	f.nextUser = 0
	f.devices = 0
	gomega.SetDefaultEventuallyTimeout(TestContext.Timeout)
	gomega.SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	gomega.SetDefaultConsistentlyDuration(time.Second)
	gomega.SetDefaultConsistentlyPollingInterval(100 * time.Millisecond)
	if ConformanceMode() {
		if slices.Contains(labels, LabelIntrospection) {
			if why := introspectionSkip(labels); why != "" {
				ginkgo.Skip(why)
			}
		}
		if slices.Contains(labels, LabelDisruptive) && TestContext.RestartCmd == "" {
			ginkgo.Skip("disruptive spec: give --restart-cmd / GATEHOUSE_RESTART_CMD")
		}
		if f.subprocess && (TestContext.KillCmd == "" || TestContext.StartCmd == "") {
			ginkgo.Skip("crash spec: give --kill-cmd and --start-cmd (GATEHOUSE_KILL_CMD, GATEHOUSE_START_CMD)")
		}
		if f.labEdit != nil {
			ginkgo.Skip("needs its own world (KDC, DNS, device CA) wired into our gateway's bootstrap")
		}
		if f.extraExchanges > 0 && RemoteFakes() {
			ginkgo.Skip("needs extra Exchange servers: remote fakes have one")
		}
		shared.once.Do(func() {
			if RemoteFakes() {
				shared.w, shared.uem, shared.x, shared.err = startRemoteWorld()
				return
			}
			shared.lab, shared.err = startConformanceWorld()
			if shared.err == nil {
				shared.w, shared.uem, shared.x = shared.lab, InProcessUEM(shared.lab.UEM), InProcessExchange(shared.lab.Exchange)
			}
		})
		gomega.Expect(shared.err).NotTo(gomega.HaveOccurred())
		f.Lab, f.w, f.UEM, f.Exchange = shared.lab, shared.w, shared.uem, shared.x
		ginkgo.DeferCleanup(f.resetShared)
		return
	}
	if RemoteFakes() {
		ginkgo.Fail("remote fakes (--uem-admin-url) need a gateway under test (--gateway-url)")
	}
	cfg := lab.Config{Users: 6, MessagesPerUser: 4, Seed: 7,
		CheckInterval: CheckInterval, ResyncInterval: ResyncInterval, PersistInterval: PersistInterval,
		NotifyRetryDelay: 100 * time.Millisecond, CRLValidity: CRLValidity, Logger: suiteLogger(), Dir: ginkgo.GinkgoT().TempDir(), ExtraExchanges: f.extraExchanges}
	if f.subprocess {
		cfg.Mode, cfg.Binary = lab.Subprocess, GatewayBinary()
	}
	if f.labEdit != nil {
		f.labEdit(&cfg)
	}
	l, err := lab.Start(ctx, cfg)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "starting the world")
	f.Lab, f.w, f.UEM, f.Exchange = l, l, InProcessUEM(l.UEM), InProcessExchange(l.Exchange)
	ginkgo.DeferCleanup(func(ctx context.Context) {
		gomega.Expect(l.Close(ctx)).To(gomega.Succeed())
	}, ginkgo.NodeTimeout(60*time.Second))
}

// startConformanceWorld starts the fakes for an external gateway and
// prints what it must be configured with.
func startConformanceWorld() (*lab.Lab, error) {
	c := TestContext
	l, err := lab.Start(context.Background(), lab.Config{Mode: lab.External, GatewayURL: c.GatewayURL, NotifyURL: c.NotifyURL, RestartCmd: c.RestartCmd,
		KillCmd: c.KillCmd, StartCmd: c.StartCmd, UEMListen: c.UEMListen, UEMAdminListen: c.UEMAdmin, ExchangeListen: c.ExchangeAddr,
		GatewayToken: c.GatewayToken, NotifySecret: c.NotifySecret, CRLValidity: CRLValidity, Users: ConformanceUsers, MessagesPerUser: 4, Seed: 7, Logger: suiteLogger(), ExtraExchanges: 1})
	if err != nil {
		return nil, err
	}
	e := l.Endpoints()
	fmt.Fprintf(os.Stdout, "conformance: the gateway under test must use UEM %s with token %s and notification secret %s (gateway id %s; notifications go to %s)\n",
		e.UEM.GatewayAPIURL, e.UEM.GatewayToken, e.UEM.NotifySecret, e.UEM.GatewayID, e.Gateway.NotifyURL)
	if c.RestartCmd != "" { // let the gateway start against this UEM
		if err := l.RestartGateway(context.Background()); err != nil {
			return nil, err
		}
	}
	if err := waitGatewayReady(l, c.ReadyTimeout); err != nil {
		return nil, err
	}
	return l, nil
}

// waitGatewayReady waits, at most timeout, until the gateway under test
// relays to Exchange: an OPTIONS through it is answered by the server (any
// status below 500). A gateway started before these fakes needs a moment
// to reach the UEM and fetch its configuration.
func waitGatewayReady(l world, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodOptions, l.DeviceURL()+"/Microsoft-Server-ActiveSync", nil)
		resp, err := l.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("the gateway under test did not relay to Exchange within %v (last answer: %s)", timeout, last)
}

// resetShared undoes what a spec may have changed in the shared world.
func (f *Framework) resetShared() {
	gomega.Expect(f.UEM.SetFaults(f.Ctx(), uem.Faults{})).To(gomega.Succeed(), "clearing the UEM's faults")
	_, err := f.UEM.SetPreferences(f.Ctx(), uem.DefaultPreferences())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "resetting the UEM's preferences")
}

var (
	logOnce sync.Once
	logger  *slog.Logger
)

// suiteLogger writes the worlds' logs to <results-dir>/scenarios.log.
func suiteLogger() *slog.Logger {
	logOnce.Do(func() {
		logger = slog.New(slog.DiscardHandler)
		if TestContext.ResultsDir == "" {
			return
		}
		_ = os.MkdirAll(TestContext.ResultsDir, 0o755)
		name := fmt.Sprintf("scenarios-%d.log", ginkgo.GinkgoParallelProcess())
		if w, err := os.OpenFile(filepath.Join(TestContext.ResultsDir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			logger = slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
		}
	})
	return logger
}

// SetGatewayBinary records the gatehouse binary subprocess worlds run
// (--gateway-binary), so that GatewayBinary builds none.
func SetGatewayBinary(path string) {
	binary.Lock()
	binary.path = path
	binary.Unlock()
}

// GatewayBinary is the gatehouse binary subprocess worlds run: the one
// given, else one this process builds with go build the first time a spec
// needs it. A run selecting no such spec (the default run) builds nothing:
// the build took most of the default run's wall time on a busy 2-core
// machine.
func GatewayBinary() string {
	binary.Lock()
	defer binary.Unlock()
	if binary.path == "" && binary.err == nil {
		binary.dir, binary.err = os.MkdirTemp("", "gatehouse-scenarios-bin-")
		if binary.err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			binary.path, binary.err = lab.BuildGateway(ctx, binary.dir)
			cancel()
		}
	}
	if binary.err != nil {
		ginkgo.Fail(fmt.Sprintf("no gatehouse binary (give --gateway-binary): %v", binary.err))
	}
	return binary.path
}

// RemoveBuiltGateway removes the binary GatewayBinary built, if any.
func RemoveBuiltGateway() {
	binary.Lock()
	defer binary.Unlock()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
		binary.dir, binary.path = "", ""
	}
}

func nonce() string {
	const alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// NewUser hands out a user (and mailbox) no other spec of this world uses.
func (f *Framework) NewUser() string {
	users := f.w.Users()
	i := f.nextUser
	if ConformanceMode() {
		i = int(userSeq.Add(1) - 1)
	} else {
		f.nextUser++
	}
	gomega.Expect(i).To(gomega.BeNumerically("<", len(users)), "out of demo users")
	return users[i].Name
}

// NewDevice makes a device of user with a fresh EAS device id; opts
// change its configuration (platform, version, ...).
func (f *Framework) NewDevice(user string, opts ...func(*device.Config)) *device.Device {
	cfg := device.Config{ID: fmt.Sprintf("GH%s%04d", runNonce, deviceSeq.Add(1)), User: user}
	for _, o := range opts {
		o(&cfg)
	}
	d, err := f.w.NewDevice(cfg)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	f.attachOnFailure(d)
	return d
}

// Register enrols the device in the UEM (a managed device carrying its
// EAS id), so that its association is Registered(Linked).
func (f *Framework) Register(d *device.Device) uem.Device {
	md, err := f.UEM.AddDevice(f.Ctx(), uem.Device{UUID: "uuid-" + d.ID(), UserID: d.User(), Platform: string(d.Config().Platform),
		Model: d.Config().Model, EASDeviceIDs: []string{d.ID()}})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return md
}

// Association returns the UEM's association of the device (an error
// until the gateway reported it).
func (f *Framework) Association(d *device.Device) (uem.Association, error) {
	return f.UEM.FindAssociation(f.Ctx(), d.ID(), d.User())
}

// SyncStatus is the UEM's Sync Status of the device ("" while unknown),
// for Eventually.
func (f *Framework) SyncStatus(d *device.Device) func() string {
	return func() string {
		a, err := f.Association(d)
		if err != nil {
			return ""
		}
		return a.SyncStatus
	}
}

// Act runs an admin action on the device's association in the UEM.
func (f *Framework) Act(d *device.Device, action, note string) uem.Association {
	a, err := f.Association(d)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the UEM has no association for %s", d.ID())
	a, err = f.UEM.Act(f.Ctx(), a.ID, uem.Action{Action: action, Note: note})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return a
}

// TryAct is Act returning the UEM's error (for actions it must refuse).
func (f *Framework) TryAct(d *device.Device, action string) error {
	a, err := f.Association(d)
	if err != nil {
		return err
	}
	_, err = f.UEM.Act(f.Ctx(), a.ID, uem.Action{Action: action})
	return err
}

// Events returns the UEM event log entries about the device.
func (f *Framework) Events(d *device.Device) []uem.Event {
	var out []uem.Event
	all, err := f.UEM.Events(f.Ctx(), 0)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "reading the UEM event log")
	for _, e := range all {
		if e.DeviceID == d.ID() {
			out = append(out, e)
		}
	}
	return out
}

// EventActions lists the device's event log actions, oldest first.
func (f *Framework) EventActions(d *device.Device) []string {
	var out []string
	for _, e := range f.Events(d) {
		out = append(out, e.Action)
	}
	return out
}

// SetPreferences changes UEM preferences (unset fields keep their values).
func (f *Framework) SetPreferences(change func(*uem.Preferences)) {
	p, err := f.UEM.Preferences(f.Ctx())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	change(&p)
	_, err = f.UEM.SetPreferences(f.Ctx(), p)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
}

// CreatePolicy adds an ActiveSync policy to the UEM.
func (f *Framework) CreatePolicy(p uemapi.ActiveSyncPolicy) uemapi.ActiveSyncPolicy {
	p, err := f.UEM.CreatePolicy(f.Ctx(), p)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return p
}

// UEMDown takes the UEM's gateway API down (true) or brings it back.
func (f *Framework) UEMDown(down bool) {
	gomega.Expect(f.UEM.SetFaults(f.Ctx(), uem.Faults{Down: down})).To(gomega.Succeed())
}

// DropNotifications makes the UEM lose its notifications (or stop).
func (f *Framework) DropNotifications(drop bool) {
	gomega.Expect(f.UEM.SetFaults(f.Ctx(), uem.Faults{DropNotifications: drop})).To(gomega.Succeed())
}

// Partnership is what Exchange recorded about the device; ok is false
// when the device never reached Exchange.
func (f *Framework) Partnership(d *device.Device) (exchange.Partnership, bool) {
	ps, err := f.Exchange.Partnerships(f.Ctx())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "reading Exchange's partnerships")
	for _, p := range ps {
		if p.DeviceID == d.ID() && p.User == d.User() {
			return p, true
		}
	}
	return exchange.Partnership{}, false
}

// ReachedServer reports whether the given Exchange ever saw the device.
func (f *Framework) ReachedServer(x *exchange.Server, d *device.Device) bool {
	for _, p := range x.Partnerships() {
		if p.DeviceID == d.ID() && p.User == d.User() {
			return true
		}
	}
	return false
}

// ReachedExchange reports whether Exchange ever saw the device.
func (f *Framework) ReachedExchange(d *device.Device) bool {
	_, ok := f.Partnership(d)
	return ok
}

// Gateway is our gateway's admin client (introspection specs only).
func (f *Framework) Gateway() *admin.Client {
	gomega.Expect(slices.Contains(ginkgo.CurrentSpecReport().Labels(), LabelIntrospection)).To(gomega.BeTrue(),
		"only specs labelled introspection may use the gateway's admin API")
	c := f.w.GatewayAdmin()
	if ConformanceMode() {
		c = conformanceAdmin(f.w.HTTPClient())
	}
	gomega.Expect(c).NotTo(gomega.BeNil())
	return c
}

// RestartGateway restarts the gateway gracefully (disruptive specs).
func (f *Framework) RestartGateway() {
	gomega.Expect(f.w.RestartGateway(f.Ctx())).To(gomega.Succeed())
}

// KillGateway kills the gateway without letting it write anything:
// SIGKILL to our subprocess, or the kill command of a gateway under test.
func (f *Framework) KillGateway() {
	err := f.w.KillGateway()
	if errors.Is(err, lab.ErrNotSupported) {
		ginkgo.Skip("kill -9 needs a subprocess gateway or a kill command")
	}
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
}

// StartGateway starts a stopped or killed gateway.
func (f *Framework) StartGateway() {
	gomega.Expect(f.w.StartGateway(f.Ctx())).To(gomega.Succeed())
}

// GatewayID is the gateway's entry id in the UEM (the Domain of the
// associations it reports).
func (f *Framework) GatewayID() string { return f.w.GatewayID() }

// Ctx is the spec's context for device calls: cancelled when the spec
// times out (TestContext.SpecTimeout, or its own SpecTimeout) or the run
// is interrupted. Outside a spec body (setup, cleanups) it is
// context.Background().
func (f *Framework) Ctx() context.Context { return specContext() }
