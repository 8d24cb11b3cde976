package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"
)

// newConformanceCmd runs the scenarios: the compiled suite when given
// (`ginkgo build ./scenarios` or `go test -c ./scenarios`), else `go test`
// of ./scenarios from the source tree, with reports in a results directory.
func newConformanceCmd() *cobra.Command {
	var suite, results, gatewayURL, notifyURL, restartCmd, labels, binary string
	var uemAdminURL, exchangeAdminURL, gatewayID string
	cmd := &cobra.Command{
		Use:   "conformance",
		Short: "Run the Ginkgo conformance scenarios against our gateway or another build",
		Long: `Run the conformance scenarios. Without --gateway-url every spec gets a fresh
world with our gateway. With --gateway-url (and --notify-url) the fakes start
once, the UEM URL and credentials the gateway must use are printed, and the
specs run against it: introspection specs are skipped and disruptive ones need
--restart-cmd. With --uem-admin-url and --exchange-admin-url too, the fakes are
ones already running (containers/labstack) and are driven over their admin APIs
(tokens in GATEHOUSE_UEM_ADMIN_TOKEN and GATEHOUSE_EXCHANGE_ADMIN_TOKEN). Results: <results>/report.json (Ginkgo JSON), junit.xml,
scenarios-*.log and the "done" marker (see docs/conformance.md).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConformance(cmd.Context(), conformanceRun{Suite: suite, Results: results, GatewayURL: gatewayURL,
				NotifyURL: notifyURL, RestartCmd: restartCmd, Labels: labels, Binary: binary,
				UEMAdminURL: uemAdminURL, ExchangeAdminURL: exchangeAdminURL, GatewayID: gatewayID}, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&suite, "suite", "", "compiled suite (ginkgo build / go test -c of ./scenarios); go test from the source tree when empty")
	f.StringVar(&results, "results", "conformance-results", "results directory (reports, logs, done marker)")
	f.StringVar(&gatewayURL, "gateway-url", "", "device-facing base URL of the gateway under test (conformance mode)")
	f.StringVar(&notifyURL, "notify-url", "", "URL where the gateway under test receives UEM notifications")
	f.StringVar(&restartCmd, "restart-cmd", "", "shell command restarting the gateway under test (disruptive specs)")
	f.StringVar(&labels, "label-filter", "", "Ginkgo label filter (default: !slow)")
	f.StringVar(&binary, "gateway-binary", "", "gatehouse binary for subprocess worlds (built when empty)")
	f.StringVar(&uemAdminURL, "uem-admin-url", "", "remote fakes: admin API base URL of a running fake UEM wired to the gateway under test")
	f.StringVar(&exchangeAdminURL, "exchange-admin-url", "", "remote fakes: admin API base URL of the running fake Exchange")
	f.StringVar(&gatewayID, "gateway-id", "", "remote fakes: the gateway's entry in the UEM (default gw1)")
	return cmd
}

// conformanceRun is one run of the suite (the conformance command's flags).
type conformanceRun struct {
	Suite, Results, GatewayURL, NotifyURL, RestartCmd, Labels, Binary string
	// Remote fakes (containers/labstack): their admin APIs and the gateway's UEM entry.
	UEMAdminURL, ExchangeAdminURL, GatewayID string
}

// runConformance runs the compiled suite, or go test of ./scenarios, with
// its reports in o.Results; an error when the suite fails.
func runConformance(ctx context.Context, o conformanceRun, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(o.Results, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(o.Results)
	if err != nil {
		return err
	}
	ginkgoArgs := []string{"-ginkgo.json-report=" + filepath.Join(abs, "report.json"), "-ginkgo.junit-report=" + filepath.Join(abs, "junit.xml"), "-ginkgo.no-color"}
	if o.Labels != "" {
		ginkgoArgs = append(ginkgoArgs, "-ginkgo.label-filter="+o.Labels)
	}
	var c *exec.Cmd
	if o.Suite != "" {
		c = exec.CommandContext(ctx, o.Suite, ginkgoArgs...)
	} else {
		c = exec.CommandContext(ctx, "go", append([]string{"test", "-count=1", "-timeout=30m", "./scenarios/", "-args"}, ginkgoArgs...)...)
	}
	c.Env = append(os.Environ(), "GATEHOUSE_RESULTS_DIR="+abs)
	for k, v := range map[string]string{"GATEHOUSE_GATEWAY_URL": o.GatewayURL, "GATEHOUSE_NOTIFY_URL": o.NotifyURL,
		"GATEHOUSE_RESTART_CMD": o.RestartCmd, "GATEHOUSE_GATEWAY_BINARY": o.Binary,
		"GATEHOUSE_UEM_ADMIN_URL": o.UEMAdminURL, "GATEHOUSE_EXCHANGE_ADMIN_URL": o.ExchangeAdminURL, "GATEHOUSE_GATEWAY_ID": o.GatewayID} {
		if v != "" {
			c.Env = append(c.Env, k+"="+v)
		}
	}
	c.Stdout, c.Stderr = stdout, stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("conformance suite: %w (results in %s)", err, abs)
	}
	return nil
}
