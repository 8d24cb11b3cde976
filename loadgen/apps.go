package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// Apps makes part of the fleet app devices (docs/apptunnel.md): instead
// of ActiveSync they run AppTunnel apps through the gateway's tunnel
// listener, an HTTP app (absolute-form GETs) and a TCP app (CONNECT and
// an echo round trip), measured as AppHTTP and AppTCP.
type Apps struct {
	// Share (0-1) of the devices that are app devices; the rest are mail devices.
	Share float64 `yaml:"share"`
	// HTTPRate and TCPRate are per app device ("6/min").
	HTTPRate Rate `yaml:"http_rate"`
	TCPRate  Rate `yaml:"tcp_rate"`
	// HTTPService names the AppTunnel service of the HTTP app (a custom
	// HTTP service or empty for <ANY>); TCPService likewise (<TCP_ANY>).
	HTTPService string `yaml:"http_service"`
	TCPService  string `yaml:"tcp_service"`
}

// AppTargets wire the app devices: where the tunnel listener and the
// servers behind it are, and each device's identity certificate.
type AppTargets struct {
	Tunnel  string // host:port
	HTTPURL string // http://host:port reached through the tunnel
	TCPAddr string // a TCP echo server, host:port
	// Cert issues the identity certificate of app device uuid of user.
	Cert func(uuid, user string) (*tls.Certificate, error)
}

// App commands the results count (tunnel operations).
const (
	CmdAppHTTP = "AppHTTP"
	CmdAppTCP  = "AppTCP"
)

func (a *Apps) validate() error {
	if a == nil {
		return nil
	}
	if a.Share < 0 || a.Share > 1 {
		return badField("apps.share", "must be between 0 and 1, got %v", a.Share)
	}
	if a.Share > 0 && a.HTTPRate <= 0 && a.TCPRate <= 0 {
		return badField("apps", "app devices need http_rate or tcp_rate")
	}
	return nil
}

// appDevice tells whether the fleet's device j is an app device.
func (r *runner) appDevice(j int) bool {
	a := r.spec.Apps
	return a != nil && a.Share > 0 && mrand.New(mrand.NewPCG(r.spec.Seed^0xa995, uint64(j))).Float64() < a.Share
}

// appPool is the app devices online.
type appPool struct {
	mu   sync.Mutex
	apps []*device.App
}

func (p *appPool) pick(rng *mrand.Rand) *device.App {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.apps) == 0 {
		return nil
	}
	return p.apps[rng.IntN(len(p.apps))]
}

func (p *appPool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.apps)
}

// arriveApp brings app device j online: its certificate, then the pool.
func (r *runner) arriveApp(j int, intended time.Time) {
	t := r.opt.Apps
	if t == nil || t.Cert == nil {
		r.rec.RecordStatus("Arrive", "no_app_targets", 0)
		return
	}
	u := r.users[j%len(r.users)]
	uuid := fmt.Sprintf("lg-app-%d-%s-%d", r.spec.Seed, r.opt.RunID, j)
	cert, err := t.Cert(uuid, u.Name)
	if err != nil {
		r.rec.RecordStatus("Arrive", "bad_device", time.Since(intended))
		return
	}
	r.apps.mu.Lock()
	r.apps.apps = append(r.apps.apps, &device.App{Tunnel: t.Tunnel, Cert: cert, BundleID: fmt.Sprintf("com.loadgen.app%d", j%4), Timeout: 30 * time.Second})
	r.apps.mu.Unlock()
}

// startApps paces the app operations (open model, like Sync).
func (r *runner) startApps(ctx context.Context, bg *sync.WaitGroup, dur time.Duration) {
	a := r.spec.Apps
	if a == nil || a.Share == 0 || r.opt.Apps == nil {
		return
	}
	for i, kind := range []string{CmdAppHTTP, CmdAppTCP} {
		rate := map[string]Rate{CmdAppHTTP: a.HTTPRate, CmdAppTCP: a.TCPRate}[kind]
		if rate <= 0 {
			continue
		}
		rng := mrand.New(mrand.NewPCG(r.spec.Seed, 0xa99<<8|uint64(i)))
		bg.Go(func() {
			pace(ctx, r.start, dur, func(time.Duration) float64 { return float64(r.apps.size()) * float64(rate) }, func(intended time.Time) {
				app := r.apps.pick(rng)
				if app == nil {
					return
				}
				r.dispatch(ctx, intended, func() { r.appOp(ctx, app, kind, intended) })
			})
		})
	}
}

// appOp runs one tunnel operation; a refusal counts as its HTTP status.
func (r *runner) appOp(ctx context.Context, app *device.App, kind string, intended time.Time) {
	a, t := r.spec.Apps, r.opt.Apps
	one := *app
	switch kind {
	case CmdAppHTTP:
		one.Service = a.HTTPService
		res, err := one.Get(ctx, t.HTTPURL+"/loadgen")
		if err == nil && res.Status != http.StatusOK {
			err = &device.StatusError{Cmd: "AppTunnel", HTTPStatus: res.Status}
		}
		r.rec.Record(kind, err, time.Since(intended))
	case CmdAppTCP:
		one.Service = a.TCPService
		c, res, err := one.Connect(ctx, t.TCPAddr)
		if errors.Is(err, device.ErrTunnelRefused) {
			err = &device.StatusError{Cmd: "AppTunnel", HTTPStatus: res.Status}
		}
		if err == nil {
			msg := "loadgen " + strings.Repeat("x", 32)
			var back string
			back, err = device.Echo(c, msg)
			c.Close()
			if err == nil && back != msg {
				err = errors.New("loadgen: the TCP echo answered other bytes")
			}
		}
		r.rec.Record(kind, err, time.Since(intended))
	}
}
