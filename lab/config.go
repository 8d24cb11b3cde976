// Package lab boots a whole gatehouse world: a fake UEM, a fake Exchange
// ActiveSync server and a gateway (in-process, a subprocess of the built
// binary, or an external build under test), wired together the way an
// administrator would: the gateway registered in the UEM with its
// notification URL, secret and token, the Exchange server as its default
// ActiveSync service, and the gateway's certificate trusted for
// notifications. It returns endpoints, admin clients and hooks to
// restart or kill the gateway and to inject faults.
//
// The scenarios, `gatehouse lab` and the load generator all start worlds
// through this package; Config.Kerberos adds the fake KDC and DNS.
package lab

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/clock"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Mode says how the gateway runs.
type Mode string

// Gateway modes.
const (
	// InProcess runs gateway.Server in this process: fastest; cannot be
	// killed with SIGKILL.
	InProcess Mode = "in-process"
	// Subprocess runs `gatehouse gateway` from Config.Binary (built with
	// BuildGateway when empty): restart and kill -9 are real.
	Subprocess Mode = "subprocess"
	// External uses a gateway someone else runs (conformance mode): the
	// lab starts only the fakes and prints what the gateway must use.
	External Mode = "external"
)

// Config describes a world. The zero value is a usable test world on
// 127.0.0.1:0 with an in-process gateway.
type Config struct {
	Mode Mode
	// Binary is the gatehouse binary for Subprocess mode.
	Binary string
	// Dir holds the gateway's data directory and the logs; a temporary
	// directory (removed by Close) when empty.
	Dir string

	// Users is the number of demo users (alice, bob, carol, ... then
	// user09, ...), each with a mailbox and a UEM user; default 3.
	Users           int
	MessagesPerUser int    // generated mails per mailbox, default 6
	Seed            uint64 // mail generator seed, default 1
	Domain          string // mail domain, default corp.example

	// Listen addresses; "127.0.0.1:0" when empty. The gateway's three are
	// picked free up front in Subprocess mode (they must be known before
	// it starts, for its notification URL).
	UEMListen, UEMAdminListen           string
	ExchangeListen, ExchangeAdminListen string
	GatewayListen, NotifyListen         string
	GatewayAdminListen                  string

	// Credentials; generated when empty (fixed ones make `gatehouse lab`
	// and conformance runs reproducible).
	GatewayID          string // the gateway entry in the UEM, default gw1
	GatewayToken       string // the gateway's UEM credential
	NotifySecret       string // signs UEM notifications
	UEMAdminToken      string
	ExchangeAdminToken string
	GatewayAdminToken  string

	// Gateway bootstrap settings (in-process and subprocess).
	FailOpen        *bool         // default true
	CheckInterval   time.Duration // default 10s
	ResyncInterval  time.Duration // default 30s
	PersistInterval time.Duration // default 10s (the gateway's minimum)
	// StatsInterval is how often the gateway appends to global-stats.csv
	// in its data directory; default 1m (reports chart it over a run).
	StatsInterval time.Duration

	// External mode: the gateway's device-facing base URL (required),
	// where it receives notifications (required), and optional shell
	// commands that restart it gracefully (disruptive scenarios need
	// one), kill it without letting it write anything (SIGKILL, `docker
	// kill`), and start it again after a kill.
	GatewayURL string
	NotifyURL  string
	RestartCmd string
	KillCmd    string
	StartCmd   string

	// ExtraExchanges starts more fake Exchange servers with the same users,
	// each the only server of an ActiveSync service named
	// eas<N>.<Domain> (N from 2), for Host routing and 451 scenarios.
	ExtraExchanges int

	// IdentityCerts makes the gateway authenticate devices with identity
	// certificates from the fake UEM's CA (Lab.IssueCertificate,
	// Lab.NewCertDevice), checking its CRL (DA-03, DA-08). Default off.
	IdentityCerts bool
	// Kerberos starts a fake KDC for Realm() and a fake DNS serving its
	// SRV records (Lab.KDC, Lab.DNS; the gateway resolves through it),
	// makes the Exchange accept only Kerberos tickets for MailSPN(), and
	// the default service authenticate to it with Kerberos constrained
	// delegation (KRB-09). It implies IdentityCerts. Default off.
	Kerberos bool
	// OAuth starts a fake IdP (Lab.IdP) with the lab's users whose
	// conditional access trusts only GatewayEgress, makes the Exchange
	// take its bearer tokens too, and turns Enable Pass Through with
	// OAuth on for the default service (lab/oauth.go). Default off.
	OAuth bool

	// HTTP2: the fake Exchange servers offer HTTP/2 and the gateway
	// (in-process or subprocess) uses it upstream, so hanging Pings share
	// connections (large fleets on one machine; see docs/loadgen.md).
	HTTP2 bool

	// Audit turns the gateway's audit log (DataDir/audit.log) on (AUD-11);
	// in-process and subprocess gateways only.
	Audit bool

	// CRLValidity is how long the UEM's published CRLs are current (their
	// NextUpdate); the UEM's default (1h) when zero. Short, a revocation
	// reaches a gateway that caches CRLs until NextUpdate within it.
	CRLValidity time.Duration

	// NotifyRetryDelay is the UEM's first notification retry delay;
	// default 200ms.
	NotifyRetryDelay time.Duration

	Logger *slog.Logger // default: discard

	// Integrated starts the integrated connector beside the gateway
	// (gateway/integrated, entry IntegratedGatewayID in the UEM, the
	// Exchange's management API as its server): Lab.Connector,
	// Lab.IntegratedURL. IntegratedSyncMinutes is its differential
	// interval (0: 240, INT-07).
	Integrated            bool
	IntegratedSyncMinutes int

	// Clock is the in-process gateway's wall clock (gateway.Config.Clock;
	// nil: the system's). Other modes ignore it.
	Clock clock.Clock
}

func (c *Config) setDefaults() {
	if c.Mode == "" {
		c.Mode = InProcess
	}
	if c.Users == 0 {
		c.Users = 3
	}
	if c.MessagesPerUser == 0 {
		c.MessagesPerUser = 6
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Domain == "" {
		c.Domain = DefaultDomain
	}
	for _, a := range []*string{&c.UEMListen, &c.UEMAdminListen, &c.ExchangeListen, &c.ExchangeAdminListen, &c.GatewayListen, &c.NotifyListen, &c.GatewayAdminListen} {
		if *a == "" {
			*a = "127.0.0.1:0"
		}
	}
	if c.GatewayID == "" {
		c.GatewayID = "gw1"
	}
	for _, t := range []*string{&c.GatewayToken, &c.NotifySecret, &c.UEMAdminToken, &c.ExchangeAdminToken, &c.GatewayAdminToken} {
		if *t == "" {
			*t = randomToken()
		}
	}
	if c.FailOpen == nil {
		t := true
		c.FailOpen = &t
	}
	if c.CheckInterval == 0 {
		c.CheckInterval = 10 * time.Second
	}
	if c.ResyncInterval == 0 {
		c.ResyncInterval = 30 * time.Second
	}
	if c.PersistInterval == 0 {
		c.PersistInterval = 10 * time.Second
	}
	if c.StatsInterval == 0 {
		c.StatsInterval = time.Minute
	}
	if c.NotifyRetryDelay == 0 {
		c.NotifyRetryDelay = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	switch c.Mode {
	case InProcess, Subprocess:
	case External:
		if c.GatewayURL == "" {
			return errors.New("lab: external mode needs the gateway's device-facing URL")
		}
		if c.NotifyURL == "" {
			return errors.New("lab: external mode needs the gateway's notification URL")
		}
	default:
		return fmt.Errorf("lab: unknown gateway mode %q", c.Mode)
	}
	if c.Users < 1 || c.Users > 1000 {
		return fmt.Errorf("lab: users %d must be 1-1000", c.Users)
	}
	if len(c.GatewayToken) < 16 {
		return errors.New("lab: the gateway token must have at least 16 characters")
	}
	if len(c.NotifySecret) < uemapi.MinNotifySecret {
		return fmt.Errorf("lab: the notification secret must have at least %d bytes", uemapi.MinNotifySecret)
	}
	return nil
}

// demoNames are the first users' names; later ones are userNN.
var demoNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}

// User is a demo user: the same name and password at the UEM and Exchange.
type User struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Mailbox  string `json:"mailbox_id"`
}

func makeUsers(n int, domain string) []User {
	us := make([]User, n)
	for i := range us {
		name := fmt.Sprintf("user%02d", i+1)
		if i < len(demoNames) {
			name = demoNames[i]
		}
		us[i] = User{Name: name, Email: name + "@" + domain, Password: name + "-pw", Mailbox: "mbx-" + name}
	}
	return us
}

// DemoUsers returns the lab's first n demo users in domain (the same
// names and passwords a lab of n users has), for worlds built elsewhere
// (containers/labstack).
func DemoUsers(n int, domain string) []User { return makeUsers(n, domain) }
