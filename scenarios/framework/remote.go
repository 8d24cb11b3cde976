package framework

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// world is what the Framework needs of a running world besides the
// fakes: a *lab.Lab locally and in conformance mode, a remoteWorld when
// the fakes run elsewhere too (containers).
type world interface {
	Users() []lab.User
	NewDevice(cfg device.Config) (*device.Device, error)
	GatewayID() string
	DeviceURL() string
	HTTPClient() *http.Client
	RestartGateway(ctx context.Context) error
	StartGateway(ctx context.Context) error
	KillGateway() error
	GatewayAdmin() *admin.Client
}

var _ world = (*lab.Lab)(nil)

// remoteWorld is a world of which the suite runs nothing: the gateway
// and the fakes run elsewhere (e.g. containers/labstack), the fakes are
// driven over their admin APIs and the gateway is restarted by command.
type remoteWorld struct {
	users      []lab.User
	gatewayID  string
	deviceURL  string
	restartCmd string
	killCmd    string
	startCmd   string
	hc         *http.Client
}

func (w *remoteWorld) Users() []lab.User        { return append([]lab.User(nil), w.users...) }
func (w *remoteWorld) GatewayID() string        { return w.gatewayID }
func (w *remoteWorld) DeviceURL() string        { return w.deviceURL }
func (w *remoteWorld) HTTPClient() *http.Client { return w.hc }

// GatewayAdmin is nil: introspection specs are skipped against a gateway
// the suite did not start.
func (w *remoteWorld) GatewayAdmin() *admin.Client { return nil }

// NewDevice makes a device of one of the Exchange's users, talking to
// the gateway; the password and address come from the user list.
func (w *remoteWorld) NewDevice(cfg device.Config) (*device.Device, error) {
	for _, u := range w.users {
		if u.Name == cfg.User {
			if cfg.Password == "" {
				cfg.Password = u.Password
			}
			if cfg.Email == "" {
				cfg.Email = u.Email
			}
		}
	}
	return device.New(cfg, w.deviceURL, w.hc)
}

// RestartGateway runs the restart command and waits for the gateway.
func (w *remoteWorld) RestartGateway(ctx context.Context) error {
	return lab.RunRestartCommand(ctx, w.restartCmd, w.deviceURL, w.hc)
}

// StartGateway runs the start command and waits for the gateway.
func (w *remoteWorld) StartGateway(ctx context.Context) error {
	return lab.RunRestartCommand(ctx, w.startCmd, w.deviceURL, w.hc)
}

// KillGateway runs the kill command.
func (w *remoteWorld) KillGateway() error {
	return lab.RunKillCommand(context.Background(), w.killCmd)
}

// RemoteFakes reports whether the fakes, too, run outside the suite
// (a UEM admin URL is given): the suite starts nothing and drives the
// fakes over their admin APIs.
func RemoteFakes() bool { return TestContext.UEMAdminURL != "" }

// startRemoteWorld connects to fakes someone else runs, already wired
// to the gateway under test (its entry registered in the UEM, the
// Exchange as its ActiveSync server).
func startRemoteWorld() (world, UEM, Exchange, error) {
	c := TestContext
	switch {
	case c.GatewayURL == "":
		return nil, nil, nil, errors.New("remote fakes: give the gateway under test too (--gateway-url / GATEHOUSE_GATEWAY_URL)")
	case c.ExchangeAdminURL == "":
		return nil, nil, nil, errors.New("remote fakes: give the Exchange admin URL too (--exchange-admin-url / GATEHOUSE_EXCHANGE_ADMIN_URL)")
	case c.UEMAdminToken == "" || c.ExchangeAdminToken == "":
		return nil, nil, nil, errors.New("remote fakes: give both admin tokens (GATEHOUSE_UEM_ADMIN_TOKEN, GATEHOUSE_EXCHANGE_ADMIN_TOKEN)")
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the fakes and the gateway use throwaway certificates
		MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second,
	}}
	ctx := context.Background() // the shared world outlives any one spec
	u := uem.NewAdminClient(c.UEMAdminURL, c.UEMAdminToken, hc)
	x := exchange.NewAdminClient(c.ExchangeAdminURL, c.ExchangeAdminToken, hc)
	if _, err := u.Gateway(ctx, c.GatewayID); err != nil {
		return nil, nil, nil, fmt.Errorf("remote fakes: the UEM has no entry for the gateway under test (--gateway-id %q): %w", c.GatewayID, err)
	}
	views, err := x.Users(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("remote fakes: %w", err)
	}
	w := &remoteWorld{gatewayID: c.GatewayID, deviceURL: c.GatewayURL, restartCmd: c.RestartCmd, killCmd: c.KillCmd, startCmd: c.StartCmd, hc: hc}
	for _, v := range views {
		w.users = append(w.users, lab.User{Name: v.Name, Email: v.Email, Password: v.Password})
	}
	fmt.Fprintf(os.Stdout, "conformance: remote fakes (UEM admin %s, Exchange admin %s, %d users); gateway under test %s (UEM entry %s)\n",
		c.UEMAdminURL, c.ExchangeAdminURL, len(w.users), c.GatewayURL, c.GatewayID)
	if err := waitGatewayReady(w, c.ReadyTimeout); err != nil {
		return nil, nil, nil, err
	}
	return w, u, x, nil
}
