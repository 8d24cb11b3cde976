// Package settings declares the conformance suite's settings once: each
// has a flag of the compiled suite, an environment variable and a
// default, bound from the same table. The suite (scenarios/framework's
// TestContext), `gatehouse conformance` (the same flags, handed to the
// suite as environment) and containers/conformance use it. It does not
// import Ginkgo, so that the gatehouse binary can.
package settings

import (
	"flag"
	"fmt"
	"slices"
	"time"
)

// Settings are the suite's settings (docs/conformance.md).
type Settings struct {
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

	// Remote fakes (framework.RemoteFakes): the UEM and Exchange run
	// elsewhere, already wired to the gateway under test, and are driven
	// over their admin APIs (base URLs without /admin/v1).
	UEMAdminURL        string
	UEMAdminToken      string
	ExchangeAdminURL   string
	ExchangeAdminToken string
	GatewayID          string // the gateway's entry in that UEM

	// AppTunnelURL is the AppTunnel listener of the gateway under test
	// (docs/apptunnel.md); AppTunnel specs skip without it in conformance mode.
	AppTunnelURL string

	// GatewayAdminURL is the admin API (base URL without /admin/v1) of the
	// gateway under test; with it, the introspection specs whose labels
	// use only the documented admin API (statistics, audit, alerts) run
	// in conformance mode too.
	GatewayAdminURL   string
	GatewayAdminToken string
}

// setting is one line of the table: a field, its flag ("" for the
// environment only: a token on a command line would show in ps), its
// environment variable, its default and what it is for.
type setting struct {
	flag, env, def, usage string
	field                 func(*Settings) any // *string or *time.Duration
}

// table declares every setting, once.
var table = []setting{
	{"apptunnel-url", "GATEHOUSE_APPTUNNEL_URL", "", "AppTunnel listener (https://host:port) of the gateway under test, docs/apptunnel.md (conformance mode)", func(s *Settings) any { return &s.AppTunnelURL }},
	{"gateway-url", "GATEHOUSE_GATEWAY_URL", "", "device-facing base URL of a gateway under test (conformance mode)", func(s *Settings) any { return &s.GatewayURL }},
	{"notify-url", "GATEHOUSE_NOTIFY_URL", "", "URL where that gateway receives UEM notifications", func(s *Settings) any { return &s.NotifyURL }},
	{"restart-cmd", "GATEHOUSE_RESTART_CMD", "", "shell command restarting the gateway under test (disruptive specs)", func(s *Settings) any { return &s.RestartCmd }},
	{"kill-cmd", "GATEHOUSE_KILL_CMD", "", "shell command killing the gateway under test without a chance to write (kill -9, docker kill; the crash spec)", func(s *Settings) any { return &s.KillCmd }},
	{"start-cmd", "GATEHOUSE_START_CMD", "", "shell command starting it again after the kill command", func(s *Settings) any { return &s.StartCmd }},
	{"gateway-binary", "GATEHOUSE_GATEWAY_BINARY", "", "gatehouse binary for subprocess worlds; built with go build when empty", func(s *Settings) any { return &s.GatewayBinary }},
	{"results-dir", "GATEHOUSE_RESULTS_DIR", "", "directory for the suite log and the done marker", func(s *Settings) any { return &s.ResultsDir }},
	{"uem-listen", "GATEHOUSE_UEM_LISTEN", "127.0.0.1:8600", "conformance: fake UEM gateway API address", func(s *Settings) any { return &s.UEMListen }},
	{"uem-admin-listen", "GATEHOUSE_UEM_ADMIN_LISTEN", "127.0.0.1:8601", "conformance: fake UEM admin API address", func(s *Settings) any { return &s.UEMAdmin }},
	{"exchange-listen", "GATEHOUSE_EXCHANGE_LISTEN", "127.0.0.1:8700", "conformance: fake Exchange address", func(s *Settings) any { return &s.ExchangeAddr }},
	{"gateway-token", "GATEHOUSE_UEM_TOKEN", "gatehouse-conformance-token", "conformance: the gateway's UEM credential", func(s *Settings) any { return &s.GatewayToken }},
	{"notify-secret", "GATEHOUSE_UEM_NOTIFY_SECRET", "gatehouse-conformance-secret", "conformance: the UEM notification secret", func(s *Settings) any { return &s.NotifySecret }},
	{"uem-admin-url", "GATEHOUSE_UEM_ADMIN_URL", "", "remote fakes: base URL of a running fake UEM's admin API (token in GATEHOUSE_UEM_ADMIN_TOKEN)", func(s *Settings) any { return &s.UEMAdminURL }},
	{"", "GATEHOUSE_UEM_ADMIN_TOKEN", "", "remote fakes: the UEM's admin token", func(s *Settings) any { return &s.UEMAdminToken }},
	{"exchange-admin-url", "GATEHOUSE_EXCHANGE_ADMIN_URL", "", "remote fakes: base URL of a running fake Exchange's admin API (token in GATEHOUSE_EXCHANGE_ADMIN_TOKEN)", func(s *Settings) any { return &s.ExchangeAdminURL }},
	{"", "GATEHOUSE_EXCHANGE_ADMIN_TOKEN", "", "remote fakes: the Exchange's admin token", func(s *Settings) any { return &s.ExchangeAdminToken }},
	{"gateway-id", "GATEHOUSE_GATEWAY_ID", "gw1", "remote fakes: the gateway's entry in the UEM", func(s *Settings) any { return &s.GatewayID }},
	{"gateway-admin-url", "GATEHOUSE_GATEWAY_ADMIN_URL", "", "conformance: admin API base URL of the gateway under test (token in GATEHOUSE_GATEWAY_ADMIN_TOKEN); runs the statistics, audit and alerts introspection specs against it", func(s *Settings) any { return &s.GatewayAdminURL }},
	{"", "GATEHOUSE_GATEWAY_ADMIN_TOKEN", "", "conformance: the admin token of the gateway under test", func(s *Settings) any { return &s.GatewayAdminToken }},
	{"eventually-timeout", "GATEHOUSE_EVENTUALLY_TIMEOUT", "15s", "how long Eventually waits for a state", func(s *Settings) any { return &s.Timeout }},
	{"spec-timeout", "GATEHOUSE_SPEC_TIMEOUT", "5m", "how long a spec may run before Ginkgo cancels its context and fails it (a spec's own SpecTimeout wins)", func(s *Settings) any { return &s.SpecTimeout }},
	{"ready-timeout", "GATEHOUSE_READY_TIMEOUT", "1m", "conformance: how long to wait for the gateway under test to relay to Exchange", func(s *Settings) any { return &s.ReadyTimeout }},
}

// FromEnv returns the settings from the environment (getenv, normally
// os.Getenv), the defaults where a variable is unset or empty. A
// variable that does not parse is an error naming it.
func FromEnv(getenv func(string) string) (Settings, error) {
	var s Settings
	for _, t := range table {
		v := getenv(t.env)
		if v == "" {
			v = t.def
		}
		if err := set(t.field(&s), v); err != nil {
			return Settings{}, fmt.Errorf("settings: %s=%q: %w", t.env, v, err)
		}
	}
	return s, nil
}

// AddFlags adds a flag for every setting that has one, except those
// named in skip, bound to s: a flag given wins over the value s has (from
// FromEnv). Help shows the declared defaults, not the environment's
// values.
func (s *Settings) AddFlags(fs *flag.FlagSet, skip ...string) {
	for _, t := range table {
		if t.flag == "" || slices.Contains(skip, t.flag) {
			continue
		}
		usage := t.usage + " (env " + t.env + ")"
		switch p := t.field(s).(type) {
		case *string:
			v := *p
			fs.StringVar(p, t.flag, t.def, usage)
			*p = v
		case *time.Duration:
			v := *p
			var def time.Duration
			_ = set(&def, t.def) // the table's defaults parse (TestFromEnvDefaultsAndOverrides)
			fs.DurationVar(p, t.flag, def, usage)
			*p = v
		}
	}
}

// Environ is s as environment assignments ("NAME=value") for a suite
// run as a child process; empty and zero settings are left out, so the
// suite's defaults apply to them.
func (s Settings) Environ() []string {
	var out []string
	for _, t := range table {
		var v string
		switch p := t.field(&s).(type) {
		case *string:
			v = *p
		case *time.Duration:
			if *p != 0 {
				v = p.String()
			}
		}
		if v != "" {
			out = append(out, t.env+"="+v)
		}
	}
	return out
}

func set(field any, v string) error {
	switch p := field.(type) {
	case *string:
		*p = v
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*p = d
	}
	return nil
}
