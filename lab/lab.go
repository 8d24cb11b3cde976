package lab

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/dns"
	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/idp"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ErrNotSupported is returned by a hook the gateway mode cannot honour
// (kill -9 of an in-process gateway, restart of an external one without
// a restart command).
var ErrNotSupported = errors.New("lab: not supported in this gateway mode")

// Lab is a running world.
type Lab struct {
	cfg      Config
	dir      string
	ownDir   bool
	users    []User
	UEM      *uem.Server
	Exchange *exchange.Server
	// Extra are the ExtraExchanges, in service order (eas2, eas3, ...).
	Extra []*exchange.Server
	// KDC and DNS run in a Kerberos lab (Config.Kerberos), else nil.
	KDC *kdc.Server
	DNS *dns.Server
	// IdP runs in an OAuth lab (Config.OAuth), else nil.
	IdP *idp.Server
	hc  *http.Client
	// negotiate is the Exchange's Kerberos authenticator in a Kerberos lab.
	negotiate *exchange.NegotiateAuthenticator

	integrated  *integratedLab // Config.Integrated (integrated.go)
	mu          sync.Mutex
	gw          gatewayRunner // nil in External mode
	certDevices int           // devices IssueCertificate registered
	devHC       *http.Client  // devices' client when observed (ObserveDevices)
}

// gatewayRunner is one way of running the gateway.
type gatewayRunner interface {
	start(ctx context.Context) error
	stop(ctx context.Context) error // graceful
	kill() error                    // SIGKILL
	deviceURL() string
	notifyURL() string
	adminURL() string
}

// Start boots the world: fakes first, then the gateway (registered in the
// UEM before it starts, as its configuration comes from there).
func Start(ctx context.Context, cfg Config) (_ *Lab, err error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// The servers live until Close, not until ctx ends: a caller's ctx is
	// often a setup step's (a Ginkgo BeforeEach's ends when it returns),
	// and the fake UEM's notifications run under it.
	ctx = context.WithoutCancel(ctx)
	l := &Lab{cfg: cfg, dir: cfg.Dir, users: makeUsers(cfg.Users, cfg.Domain)}
	if l.dir == "" {
		if l.dir, err = os.MkdirTemp("", "gatehouse-lab-"); err != nil {
			return nil, err
		}
		l.ownDir = true
	} else if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			l.Close(context.Background())
		}
	}()
	l.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // lab peers use throwaway certificates
		MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second,
	}}

	if cfg.Kerberos {
		if err := l.startKerberos(ctx); err != nil {
			return nil, fmt.Errorf("lab: Kerberos: %w", err)
		}
	}
	if cfg.OAuth {
		if err := l.startIdP(ctx); err != nil {
			return nil, fmt.Errorf("lab: IdP: %w", err)
		}
	}
	if err := l.startExchange(ctx); err != nil {
		return nil, err
	}
	notify := uem.NotifyConfig{BaseDelay: cfg.NotifyRetryDelay, MaxDelay: 2 * time.Second, Timeout: 5 * time.Second}
	if cfg.Mode == External {
		notify.InsecureSkipVerify = true // the gateway under test brings its own certificate
	} else {
		// The gateway keeps its certificate in its data directory; make
		// it now so the UEM trusts it, as an admin would upload it.
		cert, err := selfsigned.LoadOrCreate(filepath.Join(l.DataDir(), "tls"), "gatehouse gateway", time.Now())
		if err != nil {
			return nil, err
		}
		notify.RootCAs = selfsigned.Pool(cert)
	}
	if err := l.startUEM(ctx, notify); err != nil {
		return nil, err
	}

	switch cfg.Mode {
	case InProcess:
		l.gw = &inProcess{l: l}
	case Subprocess:
		sp, err := newSubprocess(l)
		if err != nil {
			return nil, err
		}
		l.gw = sp
	}
	if l.gw != nil {
		if ip, ok := l.gw.(*inProcess); ok {
			if err := ip.listen(); err != nil { // its ports must be known to register it
				return nil, err
			}
		}
	}
	if err := l.registerGateway(); err != nil {
		return nil, err
	}
	if err := l.writeAdminTokenFile(); err != nil {
		return nil, err
	}
	if l.gw != nil {
		if err := l.gw.start(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.Integrated {
		if err := l.startIntegrated(ctx); err != nil {
			return nil, fmt.Errorf("lab: integrated connector: %w", err)
		}
	}
	return l, nil
}

func (l *Lab) startExchange(ctx context.Context) error {
	users := make([]exchange.User, len(l.users))
	for i, u := range l.users {
		users[i] = exchange.User{Name: u.Name, Email: u.Email, Password: u.Password}
	}
	start := func(addr, adminAddr, token string, main bool) (*exchange.Server, error) {
		var auth exchange.Authenticator
		if l.negotiate != nil && main {
			auth = l.negotiate // the main Exchange: Kerberos only
		}
		x, err := exchange.New(exchange.Config{Addr: addr, AdminAddr: adminAddr, AdminToken: token,
			Domain: l.cfg.Domain, Users: users, MessagesPerUser: l.cfg.MessagesPerUser, Seed: l.cfg.Seed,
			MinHeartbeat: 1, HTTP2: l.cfg.HTTP2, Logger: l.cfg.Logger.With("component", "exchange"), Authenticator: auth,
			Bearer: l.bearer(main)})
		if err != nil {
			return nil, err
		}
		return x, x.Start(ctx)
	}
	x, err := start(l.cfg.ExchangeListen, l.cfg.ExchangeAdminListen, l.cfg.ExchangeAdminToken, true)
	if err != nil {
		return err
	}
	l.Exchange = x
	for i := 0; i < l.cfg.ExtraExchanges; i++ {
		x, err := start("127.0.0.1:0", "127.0.0.1:0", "", false)
		if err != nil {
			return err
		}
		l.Extra = append(l.Extra, x)
	}
	return nil
}

// ServiceName is the ActiveSync service name (and Host header) of
// ExtraExchanges[i]: eas2.<domain>, eas3.<domain>, ...
func (l *Lab) ServiceName(i int) string { return fmt.Sprintf("eas%d.%s", i+2, l.cfg.Domain) }

func (l *Lab) startUEM(ctx context.Context, notify uem.NotifyConfig) error {
	seed := &uem.Seed{}
	for _, u := range l.users {
		seed.Users = append(seed.Users, uem.User{ID: u.Name, UPN: u.Email, Email: u.Email, MailboxID: u.Mailbox})
	}
	u, err := uem.New(uem.Config{GatewayAddr: l.cfg.UEMListen, AdminAddr: l.cfg.UEMAdminListen, AdminToken: l.cfg.UEMAdminToken, CRLValidity: l.cfg.CRLValidity,
		Seed: seed, Notify: notify, Logger: l.cfg.Logger.With("component", "uem")})
	if err != nil {
		return err
	}
	if err := u.Start(ctx); err != nil {
		return err
	}
	l.UEM = u
	return nil
}

// registerGateway creates the gateway entry in the UEM: its token, its
// notification URL and secret, and the Exchange server as the default
// ActiveSync service.
func (l *Lab) registerGateway() error {
	gc := uemapi.DefaultGatewayConfig()
	svc := uemapi.DefaultActiveSyncService(l.Exchange.Addr())
	svc.ServerTLS = true
	gc.ActiveSync.Services = []uemapi.ActiveSyncService{svc}
	for i, x := range l.Extra {
		extra := uemapi.DefaultActiveSyncService(x.Addr())
		extra.Name, extra.ServerTLS = l.ServiceName(i), true
		gc.ActiveSync.Services = append(gc.ActiveSync.Services, extra)
	}
	l.identityConfig(&gc)
	l.oauthConfig(&gc)
	_, err := l.UEM.AddGateway(uem.GatewayEntry{ID: l.cfg.GatewayID, Name: "gatehouse lab", Host: "127.0.0.1", Port: uem.DefaultGatewayPort,
		Enabled: true, Token: l.cfg.GatewayToken, NotifySecret: []byte(l.cfg.NotifySecret), NotificationURL: l.NotifyURL(), Config: gc})
	if err != nil {
		return fmt.Errorf("lab: register the gateway in the UEM: %w", err)
	}
	return nil
}

// Close stops the gateway and the fakes and removes a temporary directory.
func (l *Lab) Close(ctx context.Context) error {
	errs := []error{l.stopIntegrated(ctx)}
	l.mu.Lock()
	gw := l.gw
	l.mu.Unlock()
	if gw != nil {
		errs = append(errs, gw.stop(ctx))
	}
	if l.UEM != nil {
		errs = append(errs, l.UEM.Shutdown(ctx))
	}
	for _, x := range l.Extra {
		errs = append(errs, x.Shutdown(ctx))
	}
	if l.Exchange != nil {
		errs = append(errs, l.Exchange.Shutdown(ctx))
	}
	if l.KDC != nil {
		errs = append(errs, l.KDC.Shutdown(ctx))
	}
	if l.DNS != nil {
		errs = append(errs, l.DNS.Shutdown(ctx))
	}
	if l.IdP != nil {
		errs = append(errs, l.IdP.Shutdown(ctx))
	}
	if l.hc != nil {
		l.hc.CloseIdleConnections()
	}
	if l.ownDir {
		errs = append(errs, os.RemoveAll(l.dir))
	}
	return errors.Join(errs...)
}

// Mode returns how the gateway runs.
func (l *Lab) Mode() Mode { return l.cfg.Mode }

// Dir is the lab's working directory.
func (l *Lab) Dir() string { return l.dir }

// DataDir is the gateway's data directory (unused in External mode).
func (l *Lab) DataDir() string { return filepath.Join(l.dir, "gateway-data") }

// Users returns the demo users.
func (l *Lab) Users() []User { return append([]User(nil), l.users...) }

// User returns the demo user with this name.
func (l *Lab) User(name string) (User, bool) {
	for _, u := range l.users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// HTTPClient is the shared client devices use (it trusts the lab's
// throwaway certificates).
func (l *Lab) HTTPClient() *http.Client { return l.hc }

// GatewayID is the gateway's entry id in the UEM.
func (l *Lab) GatewayID() string { return l.cfg.GatewayID }

// DeviceURL is the gateway's device-facing base URL.
func (l *Lab) DeviceURL() string {
	if l.gw == nil {
		return l.cfg.GatewayURL
	}
	return l.gw.deviceURL()
}

// NotifyURL is where the UEM pushes notifications to the gateway.
func (l *Lab) NotifyURL() string {
	if l.gw == nil {
		return l.cfg.NotifyURL
	}
	return l.gw.notifyURL()
}

// GatewayAdmin is a client of our gateway's admin API; nil in External
// mode (introspection is only for the bundled gateway).
func (l *Lab) GatewayAdmin() *admin.Client {
	if l.gw == nil {
		return nil
	}
	return admin.NewClient(l.gw.adminURL(), l.cfg.GatewayAdminToken, l.hc)
}

// NewDevice makes a device for one of the lab's users, talking to the
// gateway; cfg.Password is filled in from the user table when empty.
func (l *Lab) NewDevice(cfg device.Config) (*device.Device, error) {
	if u, ok := l.User(cfg.User); ok {
		if cfg.Password == "" {
			cfg.Password = u.Password
		}
		if cfg.Email == "" {
			cfg.Email = u.Email
		}
	}
	return device.New(cfg, l.DeviceURL(), l.DeviceClient())
}

// WaitGatewayConfig waits, at most 30 s, until the bundled gateway
// reports the UEM configuration version (or a later one) applied. In
// External mode there is no admin API to ask: it returns at once.
func (l *Lab) WaitGatewayConfig(ctx context.Context, version int64) error {
	c := l.GatewayAdmin()
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		st, err := c.Status(ctx)
		if err == nil && st.ConfigVersion >= version {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: the gateway did not apply configuration %d: %w", version, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// StopGateway stops the gateway gracefully (it writes its device list).
func (l *Lab) StopGateway(ctx context.Context) error {
	if l.gw == nil {
		return ErrNotSupported
	}
	return l.gw.stop(ctx)
}

// StartGateway starts a stopped gateway on the same data directory and
// addresses.
func (l *Lab) StartGateway(ctx context.Context) error {
	if l.gw == nil {
		return runRestartCmd(ctx, l.cfg.StartCmd, l.cfg.GatewayURL, l.hc)
	}
	return l.gw.start(ctx)
}

// RestartGateway stops the gateway gracefully and starts it again; in
// External mode it runs the restart command.
func (l *Lab) RestartGateway(ctx context.Context) error {
	if l.gw == nil {
		return runRestartCmd(ctx, l.cfg.RestartCmd, l.cfg.GatewayURL, l.hc)
	}
	if err := l.gw.stop(ctx); err != nil {
		return err
	}
	return l.gw.start(ctx)
}

// KillGateway sends SIGKILL to a subprocess gateway, or runs the kill
// command of an external one: nothing is written, nothing is closed.
// StartGateway brings it back.
func (l *Lab) KillGateway() error {
	if l.gw == nil {
		return RunKillCommand(context.Background(), l.cfg.KillCmd)
	}
	return l.gw.kill()
}

// CanKill reports whether KillGateway works in this mode.
func (l *Lab) CanKill() bool {
	return l.cfg.Mode == Subprocess || l.cfg.Mode == External && l.cfg.KillCmd != "" && l.cfg.StartCmd != ""
}

// CanRestart reports whether RestartGateway works in this mode.
func (l *Lab) CanRestart() bool { return l.cfg.Mode != External || l.cfg.RestartCmd != "" }

// SetUEMDown closes (true) or reopens the UEM's gateway-facing listener;
// its other faults are cleared.
func (l *Lab) SetUEMDown(down bool) error { return l.UEM.SetFaults(uem.Faults{Down: down}) }

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
