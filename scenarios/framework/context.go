// Package framework owns the setup, teardown and helpers of the
// conformance scenarios, in the style of the Kubernetes e2e framework:
// a spec says `f := framework.New()` in its Describe and then reads like
// the behaviour it checks, through devices (loadgen/device), the fake UEM
// and the fake Exchange.
//
// Three modes. Locally (the default) every spec gets a fresh world from
// package lab: fake UEM, fake Exchange and our gateway, in-process or as
// a subprocess. In conformance mode (a gateway URL is given) the fakes are
// started once, their URL and credentials are printed for the gateway
// under test, and every spec runs against that gateway with its own
// devices and users; introspection specs are skipped, disruptive ones
// need a restart command. With remote fakes (a UEM admin URL too) the
// suite starts nothing: the fakes run elsewhere (containers), wired to
// the gateway under test, and are driven over their admin APIs. Specs
// reach the fakes through Framework.UEM and Framework.Exchange, which
// work in all three.
package framework

import (
	"flag"
	"os"
	"time"
)

// TestContext holds the suite's settings: flags, each defaulting to an
// environment variable so that a compiled suite can be driven either way.
var TestContext struct {
	GatewayURL    string // device-facing URL of the gateway under test: conformance mode
	NotifyURL     string // where that gateway receives UEM notifications
	RestartCmd    string // shell command restarting it (disruptive specs)
	KillCmd       string // shell command killing it, SIGKILL or equal (crash specs)
	StartCmd      string // shell command starting it after KillCmd
	GatewayBinary string // gatehouse binary for subprocess worlds; built when empty
	ResultsDir    string // log and done marker
	UEMListen     string // conformance: the fake UEM's gateway API address
	UEMAdmin      string // conformance: the fake UEM's admin API address
	ExchangeAddr  string // conformance: the fake Exchange address
	GatewayToken  string // conformance: the gateway's UEM credential
	NotifySecret  string // conformance: the notification secret
	Timeout       time.Duration
	SpecTimeout   time.Duration // a spec's default timeout (framework.It)
	ReadyTimeout  time.Duration // conformance: wait for the gateway under test to relay

	// Remote fakes (RemoteFakes): the UEM and Exchange run elsewhere,
	// already wired to the gateway under test, and are driven over their
	// admin APIs (base URLs without /admin/v1).
	UEMAdminURL        string
	UEMAdminToken      string
	ExchangeAdminURL   string
	ExchangeAdminToken string
	GatewayID          string // the gateway's entry in that UEM
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// RegisterFlags adds the suite's flags to the default flag set; call it
// from the suite's init.
func RegisterFlags() {
	c := &TestContext
	flag.StringVar(&c.GatewayURL, "gateway-url", env("GATEHOUSE_GATEWAY_URL", ""), "device-facing base URL of a gateway under test (conformance mode; env GATEHOUSE_GATEWAY_URL)")
	flag.StringVar(&c.NotifyURL, "notify-url", env("GATEHOUSE_NOTIFY_URL", ""), "URL where that gateway receives UEM notifications (env GATEHOUSE_NOTIFY_URL)")
	flag.StringVar(&c.RestartCmd, "restart-cmd", env("GATEHOUSE_RESTART_CMD", ""), "shell command restarting the gateway under test (env GATEHOUSE_RESTART_CMD)")
	flag.StringVar(&c.KillCmd, "kill-cmd", env("GATEHOUSE_KILL_CMD", ""), "shell command killing the gateway under test without a chance to write (kill -9, docker kill; env GATEHOUSE_KILL_CMD)")
	flag.StringVar(&c.StartCmd, "start-cmd", env("GATEHOUSE_START_CMD", ""), "shell command starting it again after the kill command (env GATEHOUSE_START_CMD)")
	flag.StringVar(&c.GatewayBinary, "gateway-binary", env("GATEHOUSE_GATEWAY_BINARY", ""), "gatehouse binary for subprocess worlds; built with go build when empty")
	flag.StringVar(&c.ResultsDir, "results-dir", env("GATEHOUSE_RESULTS_DIR", ""), "directory for the suite log and the done marker")
	flag.StringVar(&c.UEMListen, "uem-listen", env("GATEHOUSE_UEM_LISTEN", "127.0.0.1:8600"), "conformance: fake UEM gateway API address")
	flag.StringVar(&c.UEMAdmin, "uem-admin-listen", env("GATEHOUSE_UEM_ADMIN_LISTEN", "127.0.0.1:8601"), "conformance: fake UEM admin API address")
	flag.StringVar(&c.ExchangeAddr, "exchange-listen", env("GATEHOUSE_EXCHANGE_LISTEN", "127.0.0.1:8700"), "conformance: fake Exchange address")
	flag.StringVar(&c.GatewayToken, "gateway-token", env("GATEHOUSE_UEM_TOKEN", "gatehouse-conformance-token"), "conformance: the gateway's UEM credential")
	flag.StringVar(&c.NotifySecret, "notify-secret", env("GATEHOUSE_UEM_NOTIFY_SECRET", "gatehouse-conformance-secret"), "conformance: the UEM notification secret")
	flag.StringVar(&c.UEMAdminURL, "uem-admin-url", env("GATEHOUSE_UEM_ADMIN_URL", ""), "remote fakes: base URL of a running fake UEM's admin API (env GATEHOUSE_UEM_ADMIN_URL; token in GATEHOUSE_UEM_ADMIN_TOKEN)")
	flag.StringVar(&c.ExchangeAdminURL, "exchange-admin-url", env("GATEHOUSE_EXCHANGE_ADMIN_URL", ""), "remote fakes: base URL of a running fake Exchange's admin API (env GATEHOUSE_EXCHANGE_ADMIN_URL; token in GATEHOUSE_EXCHANGE_ADMIN_TOKEN)")
	flag.StringVar(&c.GatewayID, "gateway-id", env("GATEHOUSE_GATEWAY_ID", "gw1"), "remote fakes: the gateway's entry in the UEM (env GATEHOUSE_GATEWAY_ID)")
	// Tokens only from the environment: a flag would show in ps.
	c.UEMAdminToken, c.ExchangeAdminToken = os.Getenv("GATEHOUSE_UEM_ADMIN_TOKEN"), os.Getenv("GATEHOUSE_EXCHANGE_ADMIN_TOKEN")
	d, err := time.ParseDuration(env("GATEHOUSE_EVENTUALLY_TIMEOUT", "15s"))
	if err != nil {
		d = 15 * time.Second
	}
	flag.DurationVar(&c.Timeout, "eventually-timeout", d, "how long Eventually waits for a state (env GATEHOUSE_EVENTUALLY_TIMEOUT)")
	st, err := time.ParseDuration(env("GATEHOUSE_SPEC_TIMEOUT", "5m"))
	if err != nil {
		st = 5 * time.Minute
	}
	flag.DurationVar(&c.SpecTimeout, "spec-timeout", st, "how long a spec may run before Ginkgo cancels its context and fails it (env GATEHOUSE_SPEC_TIMEOUT)")
	flag.DurationVar(&c.ReadyTimeout, "ready-timeout", time.Minute, "conformance: how long to wait for the gateway under test to relay to Exchange")
}

// ConformanceMode reports whether the suite runs against another gateway.
func ConformanceMode() bool { return TestContext.GatewayURL != "" }
