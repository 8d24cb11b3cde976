package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// User is an account devices authenticate as.
type User struct{ Name, Password, Email string }

// LabUsers are the lab's users (alice, bob, ... heidi, then user09 ...,
// password <name>-pw), the default when a run is not given users.
func LabUsers(n int, domain string) []User {
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	us := make([]User, n)
	for i := range us {
		name := fmt.Sprintf("user%02d", i+1)
		if i < len(names) {
			name = names[i]
		}
		us[i] = User{Name: name, Password: name + "-pw", Email: name + "@" + domain}
	}
	return us
}

// Shard is this process's slice of a fleet: device ids with index%N == I
// and 1/N of the arrival rate.
type Shard struct{ I, N int }

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("loadgen: shard %q must be i/n with 0 <= i < n", s)
	}
	return Shard{i, n}, nil
}

// Devices returns how many of total devices belong to the shard.
func (s Shard) Devices(total int) int {
	if s.N <= 1 {
		return total
	}
	return (total - s.I + s.N - 1) / s.N
}

// Options are a run's wiring.
type Options struct {
	Target      string // the gateway's device-facing base URL
	Shard       Shard  // zero: the whole fleet
	SourceAddrs int    // loopback source addresses; default 8
	// MaxConns bounds the open connections (0: no bound); keep it under
	// the open-file limit (ulimit -n) with room for the rest.
	MaxConns int
	Users    []User // default LabUsers(spec.Users, "corp.example")
	// RunID makes new devices' ids unique to the run; random when empty.
	RunID    string
	Progress io.Writer // one-line progress each second; nil: none
	// Tick sees each second's point; returning false ends the run
	// (the capacity preset stops at the first broken threshold).
	Tick func(Point, *Recorder) bool
	// Clients overrides the HTTP clients (tests).
	Clients []*http.Client
	// OnDevice, when set, sees each device after its first contact with
	// the status of its last step (ok, blocked, ...).
	OnDevice func(m *Member, status string)
	// Apps wires the spec's app devices (nil: they are not started).
	Apps *AppTargets
}

// Member is one device of the fleet.
type Member struct {
	D     *device.Device
	Index int  // global index in the fleet
	New   bool // arrived as a new device
	Class string
	busy  atomic.Bool
	// contactAt is when its first contact began (a preset tells the
	// devices that met an outage from the start from the others).
	contactAt time.Time
}

type classPool struct {
	prof    Profile
	mu      sync.Mutex
	members []*Member
	n       atomic.Int64
}

func (p *classPool) add(m *Member) {
	p.mu.Lock()
	p.members = append(p.members, m)
	p.mu.Unlock()
	p.n.Add(1)
}

// pick returns a random idle member, marked busy, or nil.
func (p *classPool) pick(rng *mrand.Rand) *Member {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.members) == 0 {
		return nil
	}
	for range 4 {
		m := p.members[rng.IntN(len(p.members))]
		if m.busy.CompareAndSwap(false, true) {
			return m
		}
	}
	return nil
}

type runner struct {
	spec    *Spec
	opt     Options
	rec     *Recorder
	clients []*http.Client
	users   []User
	pools   map[string]*classPool
	apps    appPool // the app devices online (apps.go)
	start   time.Time
	wire    *wireMeter // the fleet's sockets, when the runner made its clients

	inflight atomic.Int64
	arrived  atomic.Int64
	wg       sync.WaitGroup
}

// Run drives the spec's fleet (this shard of it) against opt.Target
// until the duration ends, ctx ends or opt.Tick says stop, and returns
// the results (thresholds checked).
func Run(ctx context.Context, spec *Spec, opt Options) (*Results, error) {
	r, done, err := newRunner(spec, opt)
	if err != nil {
		return nil, err
	}
	res, err := r.run(ctx)
	done() // the closes' bytes count too, as the gateway reads them
	if res != nil && r.wire != nil {
		r.wire.waitClosed(drainMax + 5*time.Second)
		w := r.wire.counts()
		res.Wire = &w
	}
	return res, err
}

// newRunner fills in opt's defaults and builds the fleet's clients and
// pools; done closes the clients it made.
func newRunner(spec *Spec, opt Options) (_ *runner, done func(), _ error) {
	if opt.Target == "" && opt.Clients == nil {
		return nil, nil, errors.New("loadgen: no target")
	}
	if opt.Shard.N == 0 {
		opt.Shard = Shard{0, 1}
	}
	if opt.SourceAddrs == 0 {
		opt.SourceAddrs = 8
	}
	if opt.Users == nil {
		opt.Users = LabUsers(spec.Users, "corp.example")
	}
	if opt.RunID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		opt.RunID = hex.EncodeToString(b[:])
	}
	r := &runner{spec: spec, opt: opt, users: opt.Users, pools: map[string]*classPool{}, clients: opt.Clients}
	done = func() {}
	if r.clients == nil {
		r.wire = &wireMeter{}
		cs, err := meteredClients(opt.Target, opt.SourceAddrs, opt.MaxConns, r.wire)
		if err != nil {
			return nil, nil, err
		}
		r.clients = cs
		done = func() { CloseClients(cs) }
	}
	for _, c := range spec.Mix.classes() {
		p, _ := spec.profile(c)
		r.pools[c] = &classPool{prof: p}
	}
	return r, done, nil
}

func (r *runner) run(parent context.Context) (*Results, error) {
	dur := time.Duration(r.spec.Duration)
	// Cancel (not a deadline) ends the run, so operations cut short by
	// the end are told apart from timeouts and not recorded.
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stop := time.AfterFunc(dur, cancel)
	defer stop.Stop()
	r.start = time.Now()
	r.rec = NewRecorder(r.start)

	var bg sync.WaitGroup
	shardDevices := r.opt.Shard.Devices(r.spec.Devices)
	arrCtx, arrCancel := context.WithCancel(ctx)
	defer arrCancel()
	bg.Go(func() {
		pace(arrCtx, r.start, dur, r.spec.Arrival.ArrivalRate(shardDevices, r.opt.Shard.N), func(intended time.Time) {
			k := int(r.arrived.Add(1)) - 1
			if k >= shardDevices {
				arrCancel()
				return
			}
			r.arrive(ctx, k, intended)
		})
	})
	for ci, c := range sortedKeys(r.pools) {
		pool := r.pools[c]
		for kind, rate := range map[string]Rate{"Sync": pool.prof.SyncRate, "SendMail": pool.prof.SendMailRate} {
			if rate <= 0 {
				continue
			}
			rng := mrand.New(mrand.NewPCG(r.spec.Seed, uint64(ci)<<8|uint64(len(kind))))
			bg.Go(func() {
				pace(ctx, r.start, dur, func(time.Duration) float64 { return float64(pool.n.Load()) * float64(rate) }, func(intended time.Time) {
					m := pool.pick(rng)
					if m == nil {
						r.rec.busy.Add(1)
						return
					}
					roll := rng.Float64()
					to := r.users[rng.IntN(len(r.users))].Email
					r.dispatch(ctx, intended, func() {
						defer m.busy.Store(false)
						r.openOp(ctx, m, kind, intended, roll, pool.prof, to)
					})
				})
			})
		}
	}
	r.startApps(ctx, &bg, dur)
	// The time series and progress.
	bg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				p := r.rec.Tick(now)
				if r.opt.Progress != nil {
					fmt.Fprintf(r.opt.Progress, "\r%4ds devices %-7d pings %-7d ops/s %-6d p50 %7.1fms p99 %8.1fms errors %-5d late %-6d dropped %-6d ",
						p.T, p.Devices, p.Pings, p.Ops, p.P50ms, p.P99ms, p.Errors, p.Late, p.Dropped)
				}
				if r.opt.Tick != nil && !r.opt.Tick(p, r.rec) {
					cancel()
					return
				}
			}
		}
	})
	<-ctx.Done()
	bg.Wait()
	elapsed := time.Since(r.start)
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
	}
	if r.opt.Progress != nil {
		fmt.Fprintln(r.opt.Progress)
	}
	res := r.rec.Results()
	res.Name = r.spec.Name
	res.DurationS = elapsed.Seconds()
	res.DevicesPlanned = int64(min(float64(shardDevices), integrate(r.spec.Arrival.ArrivalRate(shardDevices, r.opt.Shard.N), min(elapsed, dur))))
	res.Runs = []string{fmt.Sprintf("%s shard %d/%d run %s", r.spec.Name, r.opt.Shard.I, r.opt.Shard.N, r.opt.RunID)}
	if _, err := res.Check(r.spec.Thresholds); err != nil {
		return nil, err
	}
	if err := parent.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// dispatch starts an open-model operation unless max_in_flight is
// reached (then it is dropped and counted). The operation measures its
// latency from intended.
func (r *runner) dispatch(ctx context.Context, intended time.Time, op func()) {
	if r.inflight.Add(1) > int64(r.spec.MaxInFlight) {
		r.inflight.Add(-1)
		r.rec.dropped.Add(1)
		return
	}
	r.wg.Go(func() {
		defer r.inflight.Add(-1)
		if time.Since(intended) > time.Duration(r.spec.LateAfter) {
			r.rec.late.Add(1)
		}
		if ctx.Err() == nil {
			op()
		}
	})
}

func (r *runner) openOp(ctx context.Context, m *Member, kind string, intended time.Time, roll float64, prof Profile, to string) {
	octx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	switch kind {
	case "Sync":
		_, err := m.D.Sync(octx)
		r.rec.Record("Sync", err, time.Since(intended))
		if err == nil && roll < prof.AttachmentShare {
			r.fetchOne(octx, m)
		}
	case "SendMail":
		err := m.D.SendMail(octx, []string{to}, "loadgen "+m.D.ID(), "gatehouse loadgen message")
		r.rec.Record("SendMail", err, time.Since(intended))
	}
}

func (r *runner) fetchOne(ctx context.Context, m *Member) {
	msgs := m.D.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if len(msgs[i].Attachments) > 0 {
			t0 := time.Now()
			_, _, err := m.D.FetchAttachment(ctx, msgs[i].Attachments[0].FileReference)
			r.rec.Record("ItemOperations", err, time.Since(t0))
			return
		}
	}
}

var (
	versionOf = map[string]eas.Version{"12.1": eas.V121, "14.0": eas.V140, "14.1": eas.V141, "16.0": eas.V160, "16.1": eas.V161}
)

func pickWeighted(rng *mrand.Rand, w map[string]float64) string {
	keys := sortedKeys(w)
	total := 0.0
	for _, k := range keys {
		total += w[k]
	}
	x := rng.Float64() * total
	for _, k := range keys {
		if x < w[k] {
			return k
		}
		x -= w[k]
	}
	return keys[len(keys)-1]
}

// DeviceID is the EAS device id of the fleet's device j: known devices
// keep it across runs with the same seed; new ones carry the run id.
func DeviceID(seed uint64, j int, isNew bool, runID string) string {
	if isNew {
		return fmt.Sprintf("LGN%s%d", runID, j)
	}
	return fmt.Sprintf("LGK%dX%d", seed, j)
}

// newMember builds the fleet's device j (deterministic from the seed).
func (r *runner) newMember(j int) (*Member, error) {
	rng := mrand.New(mrand.NewPCG(r.spec.Seed, uint64(j)))
	isNew := rng.Float64() < r.spec.NewShare
	class := pickWeighted(rng, r.spec.Mix.Clients)
	u := r.users[j%len(r.users)]
	cfg := device.Config{
		ID: DeviceID(r.spec.Seed, j, isNew, r.opt.RunID), User: u.Name, Password: u.Password, Email: u.Email,
		Platform: device.Platform(pickWeighted(rng, r.spec.Mix.Platforms)), Class: device.Class(class),
		Version: versionOf[pickWeighted(rng, r.spec.Mix.Versions)], Base64Query: rng.IntN(2) == 0, MaxRecords: 1,
	}
	if len(r.spec.Mix.Auth) > 0 && pickWeighted(rng, r.spec.Mix.Auth) == "oauth" {
		cfg.OAuth = oauthThrough(r.opt.Target)
	}
	d, err := device.New(cfg, r.opt.Target, r.clientOf(j))
	if err != nil {
		return nil, err
	}
	return &Member{D: d, Index: j, New: isNew, Class: class}, nil
}

// clientOf is the client (source address) of fleet device j: chosen by
// its index in this shard, not in the fleet, so a shard spreads its
// devices over all its clients. By fleet index, shard i of n used only
// the clients ≡ i mod gcd(n, clients): with 4 shards and 8 clients, two
// of them, each over MaxConns/8, and the devices beyond it waited for a
// connection until their Provision timed out (5 % of a 20,000 run).
func (r *runner) clientOf(j int) *http.Client {
	return r.clients[(j/max(r.opt.Shard.N, 1))%len(r.clients)]
}

// arrive brings shard device k online at intended: first contact, then
// the open-model pool and its Ping loop.
func (r *runner) arrive(ctx context.Context, k int, intended time.Time) {
	j := r.opt.Shard.I + k*r.opt.Shard.N
	r.rec.devices.Add(1)
	r.wg.Go(func() { // the pacer only spawns: building the device is the goroutine's work
		if time.Since(intended) > time.Duration(r.spec.LateAfter) {
			r.rec.late.Add(1)
		}
		if r.appDevice(j) {
			r.arriveApp(j, intended)
			return
		}
		m, err := r.newMember(j)
		if err != nil {
			r.rec.RecordStatus("Arrive", "bad_device", 0)
			return
		}
		m.busy.Store(true)
		m.contactAt = time.Now()
		status := r.firstContact(ctx, m, intended)
		if r.opt.OnDevice != nil && ctx.Err() == nil {
			r.opt.OnDevice(m, status)
		}
		if status != StatusOK {
			return
		}
		pool := r.pools[m.Class]
		m.busy.Store(false)
		pool.add(m)
		if hb := time.Duration(pool.prof.PingHeartbeat); hb > 0 {
			r.pingLoop(ctx, m, hb)
		}
	})
}

// firstContact: a new device provisions, then every device runs
// FolderSync and Sync (a known one provisions only when told to). The
// first step counts from the intended arrival. It returns the status of
// the last step run.
func (r *runner) firstContact(ctx context.Context, m *Member, intended time.Time) string {
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	from := intended
	step := func(cmd string, f func() error) string {
		err := f()
		r.rec.Record(cmd, err, time.Since(from))
		from = time.Now()
		return Classify(err)
	}
	if m.New {
		if st := step("Provision", func() error { return m.D.Provision(cctx) }); st != StatusOK {
			return st
		}
	}
	if st := step("FolderSync", func() error { return m.D.FolderSync(cctx) }); st != StatusOK {
		return st
	}
	return step("Sync", func() error { _, err := m.D.Sync(cctx); return err })
}

// pingLoop is the closed loop of Direct Push: Ping, Sync on changes,
// Ping again; after a failure it waits a second (a heartbeat when
// blocked) before trying again.
func (r *runner) pingLoop(ctx context.Context, m *Member, hb time.Duration) {
	secs := int(hb / time.Second)
	for ctx.Err() == nil {
		r.rec.pings.Add(1)
		t0 := time.Now()
		st, _, err := m.D.Ping(ctx, secs)
		r.rec.pings.Add(-1)
		r.rec.Record("Ping", err, time.Since(t0))
		wait := time.Duration(0)
		switch {
		case err != nil && (errors.Is(err, device.ErrBlocked) || errors.Is(err, device.ErrWiped)):
			wait = hb
		case err != nil:
			wait = time.Second
		case st == 2 && m.busy.CompareAndSwap(false, true):
			t1 := time.Now()
			_, err := m.D.Sync(ctx)
			m.busy.Store(false)
			r.rec.Record("Sync", err, time.Since(t1))
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
}
