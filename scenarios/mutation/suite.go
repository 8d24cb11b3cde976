package mutation

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/gatehouse-lab/gatehouse/scenarios/framework/settings"
)

// suiteRun is how to run the compiled suite against one mutant.
type suiteRun struct {
	bin, cwd string // the compiled suite and its working directory
	dir      string // the mutant's directory: reports and logs
	settings settings.Settings
	// before runs ahead of each pass (black-box: a fresh data directory
	// for the gateway the suite will start).
	before func() error
}

// catch is the first spec that failed; it is false for the suite's
// set-up (BeforeSuite), which no spec can be run alone to confirm.
type catch struct {
	spec, failure string
	it            bool
}

// run runs the specs of filter (and of the focus regular expression, but
// none of skip's, when given) with fail-fast and returns the first that
// failed, or nil when all passed.
func (s suiteRun) run(ctx context.Context, pass, filter, focus, skip string, timeout time.Duration) (*catch, error) {
	if s.before != nil {
		if err := s.before(); err != nil {
			return nil, err
		}
	}
	results := filepath.Join(s.dir, "results-"+pass)
	if err := os.MkdirAll(results, 0o755); err != nil {
		return nil, err
	}
	report := filepath.Join(results, "report.json")
	log := filepath.Join(results, "suite.log")
	out, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	args := []string{"-test.run=^TestScenarios$", "-test.timeout=" + timeout.String(),
		"-ginkgo.label-filter=" + filter, "-ginkgo.fail-fast", "-ginkgo.no-color", "-ginkgo.json-report=" + report}
	if focus != "" {
		args = append(args, "-ginkgo.focus="+focus)
	}
	if skip != "" {
		args = append(args, "-ginkgo.skip="+skip)
	}
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Dir = s.cwd
	st := s.settings
	st.ResultsDir = results
	// -trimpath: should the suite build anything, it shares the build
	// cache with the mutant's build.
	cmd.Env = append(append(cleanEnv(), "GOFLAGS=-trimpath"), st.Environ()...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s pass: %w (log %s)", pass, ctx.Err(), log)
	}
	if runErr == nil {
		return nil, nil
	}
	c, err := firstFailure(report)
	if err != nil {
		return nil, fmt.Errorf("%s pass: %w: %v: %s", pass, errNoReport, err, tail(log, 600))
	}
	return c, nil
}

// firstFailure reads a Ginkgo JSON report and returns its first failed
// node: a spec, or the suite's set-up when that failed.
func firstFailure(path string) (*catch, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range reports {
		for _, sr := range r.SpecReports {
			if !sr.State.Is(types.SpecStateFailureStates) {
				continue
			}
			name := sr.FullText()
			if sr.LeafNodeType != types.NodeTypeIt {
				name = "[" + sr.LeafNodeType.String() + "] " + name
			}
			msg, _, _ := strings.Cut(strings.TrimSpace(sr.Failure.Message), "\n")
			if len(msg) > 200 {
				msg = msg[:200] + "…"
			}
			return &catch{spec: strings.TrimSpace(name), failure: msg, it: sr.LeafNodeType == types.NodeTypeIt}, nil
		}
	}
	return nil, fmt.Errorf("%s: no failed spec", path)
}
