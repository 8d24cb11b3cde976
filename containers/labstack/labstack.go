// Package labstack starts a connected gatehouse world in containers: the
// fake UEM, the fake Exchange and the gateway on one Docker network, wired
// the way package lab wires them in-process (the gateway registered in
// the UEM with its token, notification URL and secret, the Exchange
// server as its default ActiveSync service) and returns the same
// lab.Endpoints, with URLs reachable from the test's machine.
package labstack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/gatehouse-lab/gatehouse/containers/exchange"
	"github.com/gatehouse-lab/gatehouse/containers/gateway"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
	"github.com/gatehouse-lab/gatehouse/containers/uem"
	fakeexchange "github.com/gatehouse-lab/gatehouse/fakes/exchange"
	fakeuem "github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Mode is the lab.Endpoints mode of a labstack world.
const Mode lab.Mode = "containers"

// Network aliases of the servers.
const (
	UEMAlias      = "uem"
	ExchangeAlias = "exchange"
	GatewayAlias  = "gateway"
)

// Config describes the world; the zero value is usable (image
// containers.DefaultImage must be given).
type Config struct {
	Users           int    // demo users (alice, bob, ...), default 3
	MessagesPerUser int    // default 6
	Seed            uint64 // mail generator seed, default 1
	Domain          string // default corp.example
	GatewayID       string // default gw1
	FailOpen        *bool  // default true
	// Gateway intervals (zero: 10s, 30s, 10s as in package lab).
	CheckInterval, ResyncInterval, PersistInterval time.Duration
	// GatewayImage runs the gateway from another image (a vendor's build
	// taking the same flags); the fakes still run from Run's image.
	GatewayImage string
}

// Stack is a running world.
type Stack struct {
	Network  *testcontainers.DockerNetwork
	UEM      *uem.Container
	Exchange *exchange.Container
	Gateway  *gateway.Container

	cfg                     Config
	users                   []lab.User
	gatewayToken, notifySec string
}

// Run starts the world from img. On error the Stack (possibly partial)
// is returned so that Terminate cleans up what started.
func Run(ctx context.Context, img string, cfg Config) (*Stack, error) {
	if cfg.Users == 0 {
		cfg.Users = 3
	}
	if cfg.MessagesPerUser == 0 {
		cfg.MessagesPerUser = 6
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Domain == "" {
		cfg.Domain = "corp.example"
	}
	if cfg.GatewayID == "" {
		cfg.GatewayID = "gw1"
	}
	if cfg.FailOpen == nil {
		t := true
		cfg.FailOpen = &t
	}
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = 10 * time.Second
	}
	if cfg.ResyncInterval == 0 {
		cfg.ResyncInterval = 30 * time.Second
	}
	if cfg.PersistInterval == 0 {
		cfg.PersistInterval = 10 * time.Second
	}
	if cfg.GatewayImage == "" {
		cfg.GatewayImage = img
	}
	s := &Stack{cfg: cfg, users: lab.DemoUsers(cfg.Users, cfg.Domain), gatewayToken: ctr.RandomToken(), notifySec: ctr.RandomToken()}

	var err error
	if s.Network, err = network.New(ctx); err != nil {
		return s, fmt.Errorf("labstack: network: %w", err)
	}
	mailboxes := make([]exchange.User, len(s.users))
	seed := fakeuem.Seed{}
	for i, u := range s.users {
		mailboxes[i] = exchange.User{Name: u.Name, Password: u.Password}
		seed.Users = append(seed.Users, fakeuem.User{ID: u.Name, UPN: u.Email, Email: u.Email, MailboxID: u.Mailbox})
	}
	if s.Exchange, err = exchange.Run(ctx, img, exchange.WithUsers(mailboxes...), exchange.WithDomain(cfg.Domain),
		exchange.WithMessages(cfg.MessagesPerUser), exchange.WithSeed(cfg.Seed),
		network.WithNetwork([]string{ExchangeAlias}, s.Network)); err != nil {
		return s, fmt.Errorf("labstack: %w", err)
	}
	if s.UEM, err = uem.Run(ctx, img, uem.WithSeed(seed), network.WithNetwork([]string{UEMAlias}, s.Network)); err != nil {
		return s, fmt.Errorf("labstack: %w", err)
	}
	if err := s.registerGateway(ctx); err != nil {
		return s, err
	}
	if s.Gateway, err = gateway.Run(ctx, cfg.GatewayImage,
		gateway.WithUEM(ctr.NetworkURL(UEMAlias, uem.GatewayAPIPort), s.gatewayToken, s.notifySec),
		gateway.WithFailOpen(*cfg.FailOpen), gateway.WithIntervals(cfg.CheckInterval, cfg.ResyncInterval, cfg.PersistInterval),
		gateway.WithStablePorts(), // devices keep their URL across a restart
		network.WithNetwork([]string{GatewayAlias}, s.Network)); err != nil {
		return s, fmt.Errorf("labstack: %w", err)
	}
	return s, nil
}

// registerGateway creates the gateway's entry in the UEM through its
// admin API, as lab does in-process.
func (s *Stack) registerGateway(ctx context.Context) error {
	gc := uemapi.DefaultGatewayConfig()
	svc := uemapi.DefaultActiveSyncService(ExchangeAlias + ":8700")
	svc.ServerTLS = true
	gc.ActiveSync.Services = []uemapi.ActiveSyncService{svc}
	entry := fakeuem.GatewayEntry{ID: s.cfg.GatewayID, Name: "gatehouse labstack", Host: GatewayAlias, Port: 9090, Enabled: true,
		Token: s.gatewayToken, NotifySecret: []byte(s.notifySec),
		NotificationURL: ctr.NetworkURL(GatewayAlias, gateway.NotifyPort) + gateway.NotificationPath, Config: gc}
	admin, err := s.UEMAdmin(ctx)
	if err != nil {
		return err
	}
	if _, err := admin.AddGateway(ctx, entry); err != nil {
		return fmt.Errorf("labstack: register the gateway in the UEM: %w", err)
	}
	return nil
}

// adminHTTP trusts the fakes' throwaway certificates.
func adminHTTP() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: ctr.InsecureTLS()}}
}

// UEMAdmin is a client of the UEM's admin API from the test's machine:
// devices, associations and actions, preferences, policies, faults
// (Faults{Down: true} is "UEM down" for the gateway).
func (s *Stack) UEMAdmin(ctx context.Context) (*fakeuem.AdminClient, error) {
	u, err := s.UEM.AdminURL(ctx)
	if err != nil {
		return nil, fmt.Errorf("labstack: UEM admin URL: %w", err)
	}
	return fakeuem.NewAdminClient(u, s.UEM.AdminToken(), adminHTTP()), nil
}

// ExchangeAdmin is a client of the Exchange's admin API from the test's
// machine: users, partnerships, mailboxes, injected mail.
func (s *Stack) ExchangeAdmin(ctx context.Context) (*fakeexchange.AdminClient, error) {
	u, err := s.Exchange.AdminURL(ctx)
	if err != nil {
		return nil, fmt.Errorf("labstack: Exchange admin URL: %w", err)
	}
	return fakeexchange.NewAdminClient(u, s.Exchange.AdminToken(), adminHTTP()), nil
}

// Users returns the demo users.
func (s *Stack) Users() []lab.User { return append([]lab.User(nil), s.users...) }

// Endpoints returns the world's endpoints in package lab's shape, with
// URLs reachable from the test's machine (Dir and DataDir are empty: the
// gateway's data directory is /data inside its container).
func (s *Stack) Endpoints(ctx context.Context) (lab.Endpoints, error) {
	var errs []error
	get := func(f func(context.Context) (string, error)) string {
		v, err := f(ctx)
		errs = append(errs, err)
		return v
	}
	e := lab.Endpoints{Mode: Mode, Users: s.Users(),
		Gateway: lab.GatewayEndpoints{DeviceURL: get(s.Gateway.URL), ActiveSyncURL: get(s.Gateway.ActiveSyncURL),
			NotifyURL: get(s.Gateway.NotifyURL), AdminURL: get(s.Gateway.AdminURL), AdminToken: s.Gateway.AdminToken()},
		UEM: lab.UEMEndpoints{GatewayAPIURL: get(s.UEM.GatewayAPIURL), AdminURL: get(s.UEM.AdminURL), AdminToken: s.UEM.AdminToken(),
			GatewayID: s.cfg.GatewayID, GatewayToken: s.gatewayToken, NotifySecret: s.notifySec},
		Exchange: lab.ExchangeEndpoints{ActiveSyncURL: get(s.Exchange.ActiveSyncURL), AdminURL: get(s.Exchange.AdminURL), AdminToken: s.Exchange.AdminToken()},
	}
	return e, errors.Join(errs...)
}

// Terminate stops and removes the containers and the network (whatever
// of them started).
func (s *Stack) Terminate(ctx context.Context) error {
	var errs []error
	for _, c := range []testcontainers.Container{s.gateway(), s.uem(), s.exchange()} {
		if c != nil {
			errs = append(errs, testcontainers.TerminateContainer(c))
		}
	}
	if s.Network != nil {
		errs = append(errs, s.Network.Remove(ctx))
	}
	return errors.Join(errs...)
}

// The typed containers as interfaces, nil when not started (a nil
// *Container in an interface is not nil).
func (s *Stack) gateway() testcontainers.Container {
	if s.Gateway == nil {
		return nil
	}
	return s.Gateway
}

func (s *Stack) uem() testcontainers.Container {
	if s.UEM == nil {
		return nil
	}
	return s.UEM
}

func (s *Stack) exchange() testcontainers.Container {
	if s.Exchange == nil {
		return nil
	}
	return s.Exchange
}
