//go:build containers

package conformance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/gateway"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
	"github.com/gatehouse-lab/gatehouse/containers/labstack"
	"github.com/gatehouse-lab/gatehouse/scenarios/framework/settings"
)

// DefaultLabels are the specs the issue asks for against a containerised
// gateway.
const DefaultLabels = "conformance && (first-access || wipe || fail-open || persistence)"

// TestScenariosAgainstGatewayContainer starts the gateway image
// (GATEHOUSE_GATEWAY_IMAGE, default GATEHOUSE_IMAGE or gatehouse:dev) in
// the host's network namespace, then runs `go test ./scenarios` in
// conformance mode against it: the suite's fakes run in that process on
// loopback, the gateway is told their addresses and credentials up
// front, and the restart hook is `docker restart <id>`.
// GATEHOUSE_CONFORMANCE_LABELS overrides the label filter;
// GATEHOUSE_RESULTS_DIR keeps the reports (in a subdirectory per test).
func TestScenariosAgainstGatewayContainer(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	img := gatewayImage()
	labels := env("GATEHOUSE_CONFORMANCE_LABELS", DefaultLabels)
	results := resultsDir(t, "in-process-fakes")

	uemAddr, uemAdmin, exchangeAddr := free(t), free(t), free(t)
	token, secret := ctr.RandomToken(), ctr.RandomToken()
	// Intervals as the suite's local worlds use (framework.CheckInterval...).
	gw, err := gateway.Run(ctx, img, gateway.WithHostNetwork(),
		gateway.WithUEM("https://"+uemAddr, token, secret), gateway.WithFailOpen(true),
		gateway.WithIntervals(time.Second, time.Second, 10*time.Second))
	testcontainers.CleanupContainer(t, gw)
	if err != nil {
		t.Fatal(err)
	}
	deviceURL, err := gw.URL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	notifyURL, err := gw.NotifyURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gateway %s (container %.12s): device URL %s, notifications %s", img, gw.GetContainerID(), deviceURL, notifyURL)

	runSuite(t, gw, labels, settings.Settings{ResultsDir: results,
		GatewayURL: deviceURL, NotifyURL: notifyURL, RestartCmd: restartCmd(gw), KillCmd: killCmd(gw), StartCmd: startCmd(gw),
		UEMListen: uemAddr, UEMAdmin: uemAdmin, ExchangeAddr: exchangeAddr, GatewayToken: token, NotifySecret: secret})
}

// TestScenariosAgainstContainerisedWorld runs the same specs with the
// fakes in containers too: containers/labstack starts the UEM and
// Exchange (GATEHOUSE_IMAGE) and the gateway under test
// (GATEHOUSE_GATEWAY_IMAGE) on one Docker network, and the suite drives
// the fakes over their admin APIs (the framework's remote fakes): "UEM
// down" is the UEM's Down fault, which closes its gateway-facing
// listener inside its container; disruptive specs `docker restart` the
// gateway, whose published ports stay put (gateway.WithStablePorts).
func TestScenariosAgainstContainerisedWorld(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	labels := env("GATEHOUSE_CONFORMANCE_LABELS", DefaultLabels)
	results := resultsDir(t, "containerised-fakes")

	// The suite's local worlds: 4 mails per mailbox, seed 7, 1 s checks
	// and resyncs, the minimum 10 s persist interval. 200 users cover the
	// specs of the default filter (each takes its own) with room to spare.
	s, err := labstack.Run(ctx, ctrtest.Image(), labstack.Config{Users: 200, MessagesPerUser: 4, Seed: 7,
		CheckInterval: time.Second, ResyncInterval: time.Second, PersistInterval: 10 * time.Second, GatewayImage: gatewayImage()})
	t.Cleanup(func() {
		if err := s.Terminate(context.Background()); err != nil {
			t.Errorf("terminate the stack: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Endpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stack: gateway %s (container %.12s) at %s; UEM admin %s; Exchange admin %s",
		gatewayImage(), s.Gateway.GetContainerID(), e.Gateway.DeviceURL, e.UEM.AdminURL, e.Exchange.AdminURL)
	runSuite(t, s.Gateway, labels, settings.Settings{ResultsDir: results,
		GatewayURL: e.Gateway.DeviceURL, NotifyURL: e.Gateway.NotifyURL,
		RestartCmd: restartCmd(s.Gateway), KillCmd: killCmd(s.Gateway), StartCmd: startCmd(s.Gateway), GatewayID: e.UEM.GatewayID,
		UEMAdminURL: e.UEM.AdminURL, UEMAdminToken: e.UEM.AdminToken, ExchangeAdminURL: e.Exchange.AdminURL, ExchangeAdminToken: e.Exchange.AdminToken})
}

// runSuite runs `go test ./scenarios` with the suite's settings s (as
// its environment) and the label filter, fails with the gateway's log if
// the suite fails and, for the default filter, unless each of its
// features has a passed spec.
func runSuite(t *testing.T, gw testcontainers.Container, labels string, s settings.Settings) {
	t.Helper()
	ctx := context.Background()
	results := s.ResultsDir
	cmd := exec.CommandContext(ctx, "go", "test", "-v", "-count=1", "-timeout=20m", "-run=^TestScenarios$", "github.com/gatehouse-lab/gatehouse/scenarios", "-args",
		"-ginkgo.label-filter="+labels, "-ginkgo.no-color", "-ginkgo.json-report="+filepath.Join(results, "report.json"))
	cmd.Env = append(os.Environ(), s.Environ()...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if logs, _ := gw.Logs(ctx); logs != nil {
			b, _ := io.ReadAll(io.LimitReader(logs, 64<<10))
			logs.Close()
			t.Logf("gateway container log (first %d bytes):\n%s", len(b), b)
		}
		t.Fatalf("conformance suite (%q): %v (results in %s)", labels, err, results)
	}
	t.Logf("conformance suite passed in %s", time.Since(start).Round(time.Second))
	if labels == DefaultLabels {
		expectPassed(t, filepath.Join(results, "report.json"), "first-access", "wipe", "fail-open", "persistence", crashSpec)
		expectRestartedSince(t, gw, start)
	}
}

// expectRestartedSince fails unless the container last started after t0:
// the disruptive specs would also pass against a gateway the restart
// hook never restarted (it keeps its list in memory).
func expectRestartedSince(t *testing.T, c testcontainers.Container, t0 time.Time) {
	t.Helper()
	info, err := c.Inspect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	started, err := time.Parse(time.RFC3339Nano, info.State.StartedAt)
	if err != nil {
		t.Fatalf("container start time %q: %v", info.State.StartedAt, err)
	}
	if !started.After(t0) {
		t.Errorf("the gateway container last started at %s, before the suite (%s): the disruptive specs did not restart it", started, t0)
	}
}

// restartCmd restarts the gateway container (graceful: SIGTERM, then up
// to 30 s to write its device list).
func restartCmd(gw testcontainers.Container) string {
	return fmt.Sprintf("docker restart --time 30 %s", gw.GetContainerID())
}

// killCmd kills the gateway container with SIGKILL (the crash spec: the
// gateway writes nothing), and startCmd starts it again.
func killCmd(gw testcontainers.Container) string {
	return fmt.Sprintf("docker kill --signal KILL %s", gw.GetContainerID())
}

func startCmd(gw testcontainers.Container) string {
	return fmt.Sprintf("docker start %s", gw.GetContainerID())
}

// gatewayImage is the gateway under test: GATEHOUSE_GATEWAY_IMAGE, or the
// image of the fakes.
func gatewayImage() string { return env("GATEHOUSE_GATEWAY_IMAGE", ctrtest.Image()) }

// resultsDir is GATEHOUSE_RESULTS_DIR/name (created), or a temporary one.
func resultsDir(t *testing.T, name string) string {
	dir := os.Getenv("GATEHOUSE_RESULTS_DIR")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// crashSpec is the persistence spec that kills the gateway (kill -9) in
// the middle of traffic: it needs the kill and start hooks.
const crashSpec = "kill -9 during traffic, restart with the UEM down: no blocked device is let in"

// expectPassed fails unless every feature label (or spec text) has a
// passed spec: a run that skipped them all (no restart hook, say) is no
// conformance result.
func expectPassed(t *testing.T, report string, features ...string) {
	t.Helper()
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var suites []struct {
		SpecReports []struct {
			LeafNodeType   string
			LeafNodeText   string
			LeafNodeLabels []string
			State          string
		}
	}
	if err := json.Unmarshal(b, &suites); err != nil {
		t.Fatalf("%s: %v", report, err)
	}
	passed := map[string]int{}
	for _, s := range suites {
		for _, r := range s.SpecReports {
			if r.LeafNodeType != "It" {
				continue
			}
			t.Logf("%-8s %s", r.State, r.LeafNodeText)
			if r.State == "passed" {
				for _, l := range r.LeafNodeLabels {
					passed[l]++
				}
				passed[r.LeafNodeText]++
			}
		}
	}
	for _, f := range features {
		if passed[f] == 0 {
			t.Errorf("no %s spec passed against the container", f)
		}
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// free picks a free loopback address for one of the suite's fakes.
func free(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
