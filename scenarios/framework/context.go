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
	"fmt"
	"os"

	"github.com/gatehouse-lab/gatehouse/scenarios/framework/settings"
)

// Settings are the suite's settings, declared once in package settings:
// flags of the compiled suite, each defaulting to an environment variable,
// so that a compiled suite can be driven either way.
type Settings = settings.Settings

// TestContext holds the suite's settings (RegisterFlags).
var TestContext Settings

// RegisterFlags reads the suite's settings from the environment and adds
// their flags to the default flag set; call it from the suite's init. An
// environment variable that does not parse stops the suite, as a bad flag
// does.
func RegisterFlags() {
	s, err := settings.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "scenarios: %v\n", err)
		os.Exit(2)
	}
	TestContext = s
	TestContext.AddFlags(flag.CommandLine)
}

// ConformanceMode reports whether the suite runs against another gateway.
func ConformanceMode() bool { return TestContext.GatewayURL != "" }
