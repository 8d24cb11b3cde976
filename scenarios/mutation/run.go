package mutation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultLabelFilter is the suite's default run (scenarios/suite_test.go).
const DefaultLabelFilter = "!slow"

// Options configure a run of the catalogue.
type Options struct {
	Root  string // the module root: the source tree copied for each mutant
	Modes []Mode // default: in-process
	Jobs  int    // mutants tried at once; default 1
	// LabelFilter selects the suite's specs (default "!slow", the
	// default run).
	LabelFilter string
	// Targeted runs the specs of the items a mutant breaks (and its
	// focus) first, then the rest of the suite only if none failed: the
	// outcome is the same, found sooner.
	Targeted bool
	Timeout  time.Duration // one suite run; default 20 minutes
	Keep     bool          // keep each mutant's directory (build and suite logs)
	// Progress receives a line per mutant tried; OnResult each result as
	// it comes (the command rewrites its results file).
	Progress io.Writer
	OnResult func(Result)
}

// unit is one mutant to try in one mode.
type unit struct {
	m    Mutant
	mode Mode
}

// Run tries every mutant in every mode and returns the results in
// catalogue order. It returns an error only when nothing could be tried
// (ctx ended, the unmutated suite cannot be built); a mutant that cannot
// be tried is a result with the Errored outcome.
func Run(ctx context.Context, o Options, ms []Mutant) ([]Result, error) {
	o = o.withDefaults()
	r := &runner{o: o}
	if slices.Contains(o.Modes, BlackBox) {
		dir, err := os.MkdirTemp("", "gatehouse-mutation-suite-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		// Black-box: the unmutated suite meets the mutant binary.
		r.suite = filepath.Join(dir, "scenarios.test")
		if err := goCmd(ctx, o.Root, filepath.Join(dir, "build.log"), "test", "-c", "-o", r.suite, "./scenarios"); err != nil {
			return nil, fmt.Errorf("mutation: building the suite: %w", err)
		}
	}
	var units []unit
	for _, m := range ms {
		for _, mode := range o.Modes {
			units = append(units, unit{m, mode})
		}
	}
	results := make([]Result, len(units))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range o.Jobs {
		wg.Go(func() {
			for i := range next {
				res := r.try(ctx, units[i])
				mu.Lock()
				results[i] = res
				if o.Progress != nil {
					fmt.Fprintf(o.Progress, "%-32s %-10s %-8s %5.0fs %s\n", res.Mutant, res.Mode, res.Outcome, res.Seconds, detail(res))
				}
				if o.OnResult != nil {
					o.OnResult(res)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range units {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	results = slices.DeleteFunc(results, func(r Result) bool { return r.Mutant == "" }) // never tried: ctx ended
	if err := ctx.Err(); err != nil {
		return results, fmt.Errorf("mutation: %w", err)
	}
	return results, nil
}

func (o Options) withDefaults() Options {
	if len(o.Modes) == 0 {
		o.Modes = []Mode{InProcess}
	}
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	if o.LabelFilter == "" {
		o.LabelFilter = DefaultLabelFilter
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Minute
	}
	return o
}

func detail(r Result) string {
	switch r.Outcome {
	case Caught:
		return r.Pass + ": " + r.Spec
	case Errored:
		return r.Error
	}
	return r.Expected
}

// runner holds what the units of one run share.
type runner struct {
	o     Options
	suite string // the unmutated compiled suite (black-box)
}

// try copies the tree, applies the mutant, and runs the suite in the
// unit's mode.
func (r *runner) try(ctx context.Context, u unit) (res Result) {
	start := time.Now()
	res = Result{Mutant: u.m.Name, File: u.m.File, Defect: u.m.Defect, Breaks: u.m.Breaks, Expected: u.m.ExpectedSurvival(u.mode), Mode: u.mode}
	defer func() { res.Seconds = time.Since(start).Round(time.Second).Seconds() }()
	fail := func(err error) Result {
		res.Outcome, res.Error = Errored, err.Error()
		return res
	}
	dir, err := os.MkdirTemp("", "gatehouse-mutant-"+u.m.Name+"-")
	if err != nil {
		return fail(err)
	}
	if !r.o.Keep {
		defer os.RemoveAll(dir)
	}
	src := filepath.Join(dir, "src")
	if err := CopyTree(r.o.Root, src); err != nil {
		return fail(fmt.Errorf("copying the tree: %w", err))
	}
	if err := Apply(ctx, src, u.m, false); err != nil {
		return fail(err)
	}
	var s suiteRun
	switch u.mode {
	case InProcess:
		s, err = r.inProcess(ctx, dir, src)
	case BlackBox:
		var stop func()
		s, stop, err = r.blackBox(ctx, dir, src)
		if stop != nil {
			defer stop()
		}
	default:
		err = fmt.Errorf("unknown mode %q", u.mode)
	}
	if err != nil {
		return fail(err)
	}
	return r.passes(ctx, s, u.m, res)
}

// passes runs the targeted pass, then, if nothing failed, the rest of
// the suite, and fills in the outcome.
func (r *runner) passes(ctx context.Context, s suiteRun, m Mutant, res Result) Result {
	full := r.o.LabelFilter
	if t := m.TargetFilter(); r.o.Targeted && t != "" {
		caught, err := r.pass(ctx, s, "targeted", "("+r.o.LabelFilter+") && ("+t+")", &res)
		if err != nil {
			res.Outcome, res.Error = Errored, err.Error()
			return res
		}
		if caught != nil {
			res.Outcome, res.Pass, res.Spec, res.Failure = Caught, "targeted", caught.spec, caught.failure
			return res
		}
		full = "(" + r.o.LabelFilter + ") && !(" + t + ")"
	}
	caught, err := r.pass(ctx, s, "full", full, &res)
	switch {
	case err != nil:
		res.Outcome, res.Error = Errored, err.Error()
	case caught != nil:
		res.Outcome, res.Pass, res.Spec, res.Failure = Caught, "full", caught.spec, caught.failure
	default:
		res.Outcome = Survived
	}
	return res
}

// maxFlaky bounds the specs one pass may find flaky before it gives up.
const maxFlaky = 2

// pass runs the specs of filter and returns a confirmed catch: a spec
// that failed, and failed again run alone. One that passes alone failed
// for something else than the mutant (a flake on a loaded machine): it is
// recorded in res.Flaky, skipped, and the pass runs again.
func (r *runner) pass(ctx context.Context, s suiteRun, name, filter string, res *Result) (*catch, error) {
	for {
		c, err := s.run(ctx, name, filter, "", skipRE(res.Flaky), r.o.Timeout)
		if err != nil || c == nil || !c.it {
			return c, err
		}
		again, err := s.run(ctx, name+"-confirm", filter, exactRE(c.spec), "", r.o.Timeout)
		if err != nil || again != nil {
			return c, err
		}
		res.Flaky = append(res.Flaky, c.spec)
		if len(res.Flaky) > maxFlaky {
			return nil, fmt.Errorf("%s pass: %d specs failed, then passed alone: %s", name, len(res.Flaky), strings.Join(res.Flaky, "; "))
		}
	}
}

// exactRE matches a spec's full text. Ginkgo matches focus and skip
// against the suite's description, a space and the spec's text.
func exactRE(text string) string { return " " + regexp.QuoteMeta(text) + "$" }

// skipRE matches any of the specs' full texts ("" for none).
func skipRE(texts []string) string {
	var alts []string
	for _, t := range texts {
		alts = append(alts, exactRE(t))
	}
	return strings.Join(alts, "|")
}

// inProcess builds the mutant suite, whose worlds run the mutant gateway
// in-process, and the mutant gatehouse binary for its subprocess worlds
// (the kill -9 spec). The suite would build that binary itself only when
// its label filter names the disruptive label, which a targeted pass's
// filter (items) does not.
func (r *runner) inProcess(ctx context.Context, dir, src string) (suiteRun, error) {
	bin, gw := filepath.Join(dir, "scenarios.test"), filepath.Join(dir, "gatehouse")
	if err := build(ctx, src, filepath.Join(dir, "build.log"), "test", "-c", "-o", bin, "./scenarios"); err != nil {
		return suiteRun{}, fmt.Errorf("the mutant does not build: %w", err)
	}
	if err := build(ctx, src, filepath.Join(dir, "build-gatehouse.log"), "build", "-o", gw, "./cmd/gatehouse"); err != nil {
		return suiteRun{}, fmt.Errorf("the mutant gatehouse binary does not build: %w", err)
	}
	s := suiteRun{bin: bin, cwd: filepath.Join(src, "scenarios"), dir: dir}
	s.settings.GatewayBinary = gw
	return s, nil
}

// build runs a go build command, twice if the first fails: a build that
// fails without a word (the toolchain killed on a loaded machine) must
// not count as a mutant that does not build. A real compile error fails
// both.
func build(ctx context.Context, dir, log string, args ...string) error {
	err := goCmd(ctx, dir, log, args...)
	if err != nil && ctx.Err() == nil {
		err = goCmd(ctx, dir, log, args...)
	}
	return err
}

// goCmd runs the go command in dir, its output in log. -trimpath keeps
// the build cache independent of the directory, so each copy of the
// tree rebuilds only the packages its patch changed.
func goCmd(ctx context.Context, dir, log string, args ...string) error {
	out, err := os.Create(log)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "GOFLAGS=-trimpath")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w: %s", args[0], err, tail(log, 600))
	}
	return nil
}

// cleanEnv is the environment without the suite's GATEHOUSE_ settings,
// which would point the suite somewhere else, and without GOFLAGS.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") && !strings.HasPrefix(kv, "GOFLAGS=") {
			env = append(env, kv)
		}
	}
	return env
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}

// errNoReport: the suite ended in failure without a report to say which
// spec failed.
var errNoReport = errors.New("the suite failed without a report")
