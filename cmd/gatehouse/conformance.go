package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/scenarios/framework/settings"
)

// suiteBinary is the compiled suite `gatehouse conformance` looks for
// beside its own binary (the image ships it: ci/image-build.sh).
const suiteBinary = "scenarios.test"

// newConformanceCmd runs the scenarios with reports in a results
// directory. Its flags are the suite's settings (package settings), passed
// to the suite as environment.
func newConformanceCmd() *cobra.Command {
	run := conformanceRun{}
	var envErr error
	run.Settings, envErr = settings.FromEnv(os.Getenv)
	cmd := &cobra.Command{
		Use:   "conformance",
		Short: "Run the Ginkgo conformance scenarios against our gateway or another build",
		Long: `Run the conformance scenarios: the compiled suite given with --suite, else
scenarios.test beside this binary (the image has one), else go test of
./scenarios when the working directory is the gatehouse source tree.

Without --gateway-url every spec gets a fresh world with our gateway (this
binary, unless --gateway-binary). With --gateway-url (and --notify-url) the
fakes start once, the UEM URL and credentials the gateway must use are
printed, and the specs run against it: introspection specs are skipped,
disruptive ones need --restart-cmd and the crash spec (kill -9) --kill-cmd and
--start-cmd. With --uem-admin-url and --exchange-admin-url too, the fakes are
ones already running (containers/labstack) and are driven over their admin
APIs (tokens in GATEHOUSE_UEM_ADMIN_TOKEN and GATEHOUSE_EXCHANGE_ADMIN_TOKEN).
The suite's flags (all but --suite, --results and --label-filter) also read
the environment variable each names.
Results: <results>/report.json (Ginkgo JSON), junit.xml, scenarios-*.log and
the "done" marker (see docs/conformance.md).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if envErr != nil {
				return fmt.Errorf("conformance: %w", envErr)
			}
			return runConformance(cmd.Context(), run, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&run.Suite, "suite", "", "compiled suite (go test -c ./scenarios or ginkgo build ./scenarios); default: "+suiteBinary+" beside this binary, or go test in the source tree")
	f.StringVar(&run.Results, "results", "conformance-results", "results directory (reports, logs, done marker)")
	f.StringVar(&run.Labels, "label-filter", "", "Ginkgo label filter (default: !slow)")
	suite := flag.NewFlagSet("suite", flag.ContinueOnError)
	run.Settings.AddFlags(suite, "results-dir") // --results is the results directory
	f.AddGoFlagSet(suite)
	return cmd
}

// conformanceRun is one run of the suite: where the suite is, the
// results directory, the label filter and the suite's settings.
type conformanceRun struct {
	Suite, Results, Labels string
	Settings               settings.Settings
}

// runConformance runs the suite (findSuite) with its reports in
// o.Results; an error when the suite fails.
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
	c, err := findSuite(ctx, o.Suite, ginkgoArgs)
	if err != nil {
		return err
	}
	s := o.Settings
	s.ResultsDir = abs
	if s.GatewayBinary == "" {
		// This binary is a gatehouse: the suite need not build one (it
		// cannot without the source tree and go).
		if exe, err := os.Executable(); err == nil {
			s.GatewayBinary = exe
		}
	}
	c.Env = append(os.Environ(), s.Environ()...)
	c.Stdout, c.Stderr = stdout, stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("conformance suite: %w (results in %s)", err, abs)
	}
	return nil
}

// findSuite returns the command running the suite's specs (TestScenarios
// only) with ginkgoArgs: the compiled suite given, else scenarios.test
// beside this binary, else go test of ./scenarios in the source tree.
// Without any, the error says what is missing.
func findSuite(ctx context.Context, suite string, ginkgoArgs []string) (*exec.Cmd, error) {
	args := append([]string{"-test.run=^TestScenarios$"}, ginkgoArgs...)
	if suite != "" {
		if err := isExecutable(suite); err != nil {
			return nil, fmt.Errorf("conformance: --suite: %w", err)
		}
		return exec.CommandContext(ctx, suite, args...), nil
	}
	exe, err := os.Executable()
	beside := suiteBinary + " beside this binary"
	if err == nil {
		p := filepath.Join(filepath.Dir(exe), suiteBinary)
		beside = p
		if isExecutable(p) == nil {
			return exec.CommandContext(ctx, p, args...), nil
		}
	}
	srcErr := sourceTree()
	if srcErr == nil {
		return exec.CommandContext(ctx, "go", append([]string{"test", "-count=1", "-timeout=30m", "-run=^TestScenarios$", "./scenarios/", "-args"}, ginkgoArgs...)...), nil
	}
	return nil, fmt.Errorf("conformance: no compiled suite: give --suite PATH (go test -c -o %s ./scenarios, or ginkgo build ./scenarios) or put one at %s; "+
		"go test ./scenarios/ is not possible here: %w", suiteBinary, beside, srcErr)
}

// sourceTree reports why the working directory is not the gatehouse
// source tree with go installed, or nil when it is.
func sourceTree() error {
	mod, err := os.ReadFile("go.mod")
	if err != nil || !moduleRE.Match(mod) {
		return errors.New("the working directory is not the gatehouse source tree (no go.mod of github.com/gatehouse-lab/gatehouse)")
	}
	if _, err := os.Stat(filepath.Join("scenarios", "suite_test.go")); err != nil {
		return fmt.Errorf("the source tree has no scenarios: %w", err)
	}
	if _, err := exec.LookPath("go"); err != nil {
		return fmt.Errorf("go is not installed: %w", err)
	}
	return nil
}

var moduleRE = regexp.MustCompile(`(?m)^module\s+github\.com/gatehouse-lab/gatehouse\s*$`)

// isExecutable is nil for a regular file with an execute bit.
func isExecutable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
