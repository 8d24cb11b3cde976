package negative

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Settings, from the environment (.ci/negative-control.sh sets them).
const (
	envRun      = "GATEHOUSE_NEGATIVE_CONTROL" // "1": run the control
	envNginx    = "GATEHOUSE_NGINX"            // the nginx binary (default: nginx on PATH, else /usr/sbin/nginx)
	envSuite    = "GATEHOUSE_SUITE"            // a compiled suite (default: go test -c ../)
	envResults  = "GATEHOUSE_NEGATIVE_RESULTS" // where report.json, suite.log and nginx's logs go (default: a temporary directory)
	envTimeout  = "GATEHOUSE_NEGATIVE_EVENTUALLY_TIMEOUT"
	envFocus    = "GATEHOUSE_NEGATIVE_FOCUS"  // a Ginkgo focus regexp, to rerun some specs
	envShards   = "GATEHOUSE_NEGATIVE_SHARDS" // suite processes, each with its own nginx (default 3)
	defaultWait = "2s"
)

// TestNegativeControl starts nginx as a plain TLS reverse proxy on
// loopback, runs the decision specs of the compiled suite against it in
// conformance mode with a short eventually-timeout (nginx never converges,
// so a decision spec fails at its first check of a decision), and fails
// when a decision spec passed or did not run its body.
//
// One gateway means one serial run, but the specs mostly wait, so the
// decision specs are dealt round-robin to shards (GATEHOUSE_NEGATIVE_SHARDS,
// default 3), each a suite process of its own with its own nginx and fakes
// on their own ports; the reports are merged.
func TestNegativeControl(t *testing.T) {
	if os.Getenv(envRun) != "1" {
		t.Skipf("the negative control runs with %s=1 (.ci/negative-control.sh)", envRun)
	}
	nginx := nginxBinary(t)
	results := os.Getenv(envResults)
	if results == "" {
		results = t.TempDir()
	}
	results, err := filepath.Abs(results)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(results, 0o755); err != nil {
		t.Fatal(err)
	}
	suite := os.Getenv(envSuite)
	if suite == "" {
		suite = buildSuite(t)
	}
	shards := 3
	if v := os.Getenv(envShards); v != "" {
		if shards, err = strconv.Atoi(v); err != nil || shards < 1 {
			t.Fatalf("%s=%q: a positive number", envShards, v)
		}
	}
	wait := os.Getenv(envTimeout)
	if wait == "" {
		wait = defaultWait
	}

	started := time.Now()
	description, selected := dryRun(t, suite, results)
	focuses := shardFocus(description, selected, shards)
	t.Logf("%d decision specs in %d shards", len(selected), len(focuses))
	runs := make([]shardRun, len(focuses))
	for i, focus := range focuses {
		ports := freePorts(t, 5)
		dir := filepath.Join(results, fmt.Sprintf("shard-%d", i+1))
		runs[i] = shardRun{dir: dir, focus: focus, uem: ports[3], uemAdmin: ports[4],
			proxy: proxy{nginx: nginx, dir: filepath.Join(dir, "nginx"), DeviceListen: ports[0], NotifyListen: ports[1], Exchange: ports[2]}}
		runs[i].proxy.start(t)
	}
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i].run(suite, wait)
		}()
	}
	wg.Wait()

	var merged types.Report
	for i, r := range runs {
		t.Logf("shard %d: suite against nginx: %v in %s (output: %s)", i+1, r.err, r.took.Round(time.Millisecond), r.log())
		rep, err := readReport(r.report())
		if err != nil {
			t.Fatalf("shard %d: no report from the suite (%v): %v; see %s", i+1, r.err, err, r.log())
		}
		if i == 0 {
			merged = rep
			continue
		}
		merged.SpecReports = append(merged.SpecReports, rep.SpecReports...)
		merged.SuiteSucceeded = merged.SuiteSucceeded && rep.SuiteSucceeded
	}
	merged.RunTime = time.Since(started)
	if b, err := json.Marshal([]types.Report{merged}); err == nil {
		_ = os.WriteFile(filepath.Join(results, "report.json"), b, 0o644)
	}
	c := framework.NegativeControl(merged)
	t.Logf("decision specs against nginx in %s: %d failed (as they must), %d passed, %d skipped, %d did not run",
		time.Since(started).Round(time.Millisecond), len(c.Failed), len(c.Passed), len(c.Skipped), len(c.Broken))
	for _, s := range c.Skipped {
		t.Logf("skipped: %s", s)
	}
	if ran := len(c.Failed) + len(c.Passed) + len(c.Skipped) + len(c.Broken); ran != len(selected) {
		t.Errorf("the shards reported %d decision specs, the dry run selected %d", ran, len(selected))
	}
	if err := c.Err(); err != nil {
		t.Errorf("negative control: %v\n(report %s, suite output in %s/shard-*/suite.log)", err, filepath.Join(results, "report.json"), results)
	}
}

// dryRun lists the decision specs the suite selects, in source order, and
// the suite's description (the head of the text Ginkgo focuses on).
func dryRun(t *testing.T, suite, results string) (string, []types.SpecReport) {
	t.Helper()
	report := filepath.Join(results, "dry-run.json")
	cmd := exec.Command(suite, "-test.run=^TestScenarios$", "-ginkgo.dry-run", "-ginkgo.no-color",
		"-ginkgo.label-filter="+framework.DecisionFilter(), "-ginkgo.json-report="+report)
	cmd.Env = append(os.Environ(), "GATEHOUSE_RESULTS_DIR=", "GATEHOUSE_GATEWAY_URL=", "GATEHOUSE_UEM_ADMIN_URL=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dry run of the suite: %v\n%s", err, out)
	}
	rep, err := readReport(report)
	if err != nil {
		t.Fatal(err)
	}
	var focus *regexp.Regexp
	if f := os.Getenv(envFocus); f != "" {
		if focus, err = regexp.Compile(f); err != nil {
			t.Fatalf("%s: %v", envFocus, err)
		}
	}
	var selected []types.SpecReport
	for _, sr := range rep.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt || sr.State != types.SpecStatePassed {
			continue
		}
		if focus != nil && !focus.MatchString(strings.Join(append([]string{rep.SuiteDescription}, sr.FullText()), " ")) {
			continue
		}
		selected = append(selected, sr)
	}
	slices.SortStableFunc(selected, func(a, b types.SpecReport) int {
		if c := strings.Compare(a.LeafNodeLocation.FileName, b.LeafNodeLocation.FileName); c != 0 {
			return c
		}
		return a.LeafNodeLocation.LineNumber - b.LeafNodeLocation.LineNumber
	})
	if len(selected) == 0 {
		t.Fatal("the dry run selected no decision spec")
	}
	return rep.SuiteDescription, selected
}

// shardFocus deals the specs round-robin (neighbours in a file, such as
// the versions of one spec or a file of slow ones, land in different
// shards) and returns one Ginkgo focus per shard matching exactly its
// specs' full texts.
func shardFocus(description string, specs []types.SpecReport, shards int) []string {
	groups := make([][]string, min(shards, len(specs)))
	for i, sr := range specs {
		text := strings.Join(append(slices.Clone(sr.ContainerHierarchyTexts), sr.LeafNodeText), " ")
		groups[i%len(groups)] = append(groups[i%len(groups)], regexp.QuoteMeta(text))
	}
	var out []string
	for _, g := range groups {
		out = append(out, "^"+regexp.QuoteMeta(description)+" (?:"+strings.Join(g, "|")+")$")
	}
	return out
}

// shardRun is one suite process against its own nginx.
type shardRun struct {
	dir, focus    string
	uem, uemAdmin string
	proxy         proxy
	err           error
	took          time.Duration
}

func (r *shardRun) report() string { return filepath.Join(r.dir, "report.json") }
func (r *shardRun) log() string    { return filepath.Join(r.dir, "suite.log") }

// run runs the suite's decision specs of this shard against its nginx.
func (r *shardRun) run(suite, wait string) {
	p := &r.proxy
	args := []string{
		"-test.run=^TestScenarios$",
		"-gateway-url", "https://" + p.DeviceListen,
		"-notify-url", "https://" + p.NotifyListen + "/uem/v1/notifications",
		"-exchange-listen", p.Exchange, "-uem-listen", r.uem, "-uem-admin-listen", r.uemAdmin,
		"-restart-cmd", p.command("-s", "reload"),
		"-kill-cmd", "kill -KILL -- -$(cat " + p.pidFile() + ")", "-start-cmd", p.command(),
		"-eventually-timeout", wait, "-spec-timeout", "2m", "-ready-timeout", "30s",
		"-results-dir", r.dir,
		"-ginkgo.label-filter", framework.DecisionFilter(), "-ginkgo.focus", r.focus,
		"-ginkgo.json-report", r.report(), "-ginkgo.no-color",
	}
	log, err := os.Create(r.log())
	if err != nil {
		r.err = err
		return
	}
	defer log.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite, args...)
	// Nothing of the caller's own run: remote fakes or another gateway.
	cmd.Env = append(os.Environ(), "GATEHOUSE_UEM_ADMIN_URL=", "GATEHOUSE_GATEWAY_BINARY=")
	cmd.Stdout, cmd.Stderr = log, log
	started := time.Now()
	r.err = cmd.Run() // fails, as it should: the decision specs fail
	r.took = time.Since(started)
}

func readReport(path string) (types.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return types.Report{}, err
	}
	var rs []types.Report
	if err := json.Unmarshal(b, &rs); err != nil || len(rs) != 1 {
		return types.Report{}, fmt.Errorf("%s: %d reports, %v", path, len(rs), err)
	}
	return rs[0], nil
}

// proxy is nginx as the gateway under test.
type proxy struct {
	nginx, dir                           string
	DeviceListen, NotifyListen, Exchange string // host:port
	Dir                                  string // for the template: dir
}

func (p *proxy) conf() string    { return filepath.Join(p.dir, "nginx.conf") }
func (p *proxy) pidFile() string { return filepath.Join(p.dir, "nginx.pid") }

// command is the shell command running nginx on this configuration with
// extra arguments (none: start it; "-s reload": the restart command).
func (p *proxy) command(extra ...string) string {
	return strings.Join(append([]string{shellQuote(p.nginx), "-p", shellQuote(p.dir), "-c", shellQuote(p.conf()),
		"-e", shellQuote(filepath.Join(p.dir, "error.log")), "-g", "'daemon on;'"}, extra...), " ")
}

// start writes the configuration and a self-signed certificate, starts
// nginx (it daemonises: the kill command stops its process group), waits
// until it listens and stops it at the end of the test.
func (p *proxy) start(t *testing.T) {
	t.Helper()
	p.Dir = p.dir
	for _, d := range []string{"tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"} {
		if err := os.MkdirAll(filepath.Join(p.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := selfsigned.LoadOrCreate(p.dir, "127.0.0.1", time.Now()); err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.ParseFiles("nginx.conf.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	var conf bytes.Buffer
	if err := tmpl.Execute(&conf, p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.conf(), conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-c", p.command()).CombinedOutput(); err != nil {
		t.Fatalf("starting nginx: %v\n%s", err, out)
	}
	t.Cleanup(func() { p.stop(t) })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.DeviceListen, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s: %v (see %s)", p.DeviceListen, err, filepath.Join(p.dir, "error.log"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends nginx's process group (master and workers).
func (p *proxy) stop(t *testing.T) {
	b, err := os.ReadFile(p.pidFile())
	if err != nil {
		t.Logf("nginx: no pid file: %v", err)
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		t.Logf("nginx: pid file %q", b)
		return
	}
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
		t.Logf("nginx: stopping process group %d: %v", pid, err)
	}
}

func nginxBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(envNginx); p != "" {
		return p
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatalf("no nginx: install Debian's nginx (apt-get install nginx) or set %s", envNginx)
	return ""
}

// buildSuite compiles the conformance suite (this package's parent).
func buildSuite(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "scenarios.test")
	cmd := exec.Command("go", "test", "-c", "-o", out, "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the suite: %v\n%s", err, b)
	}
	return out
}

// freePorts returns n loopback addresses free a moment ago, below the
// kernel's ephemeral range (32768 and up on Linux): a port the kernel hands
// out for outgoing connections may be taken again before the suite binds
// it, which a busy machine showed.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var (
		out []string
		ls  []net.Listener
	)
	for port := 20000 + rand.IntN(10000); len(out) < n && port < 32768; port++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	if len(out) < n {
		t.Fatalf("found %d free loopback ports, need %d", len(out), n)
	}
	return out
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
