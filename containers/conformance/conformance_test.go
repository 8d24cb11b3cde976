//go:build containers

package conformance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers"
	"github.com/gatehouse-lab/gatehouse/containers/gateway"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctrtest"
)

// DefaultLabels are the specs the issue asks for against a containerised
// gateway.
const DefaultLabels = "conformance && (first-access || wipe || fail-open || persistence)"

// TestScenariosAgainstGatewayContainer starts the gateway image
// (GATEHOUSE_GATEWAY_IMAGE, default gatehouse:dev) in the host's network
// namespace, then runs `go test ./scenarios` in conformance mode against
// it: the suite's fakes run in that process on loopback, the gateway is
// told their addresses and credentials up front, and the restart hook is
// `docker restart <id>`. GATEHOUSE_CONFORMANCE_LABELS overrides the label
// filter; GATEHOUSE_RESULTS_DIR keeps the reports.
func TestScenariosAgainstGatewayContainer(t *testing.T) {
	ctrtest.NeedDocker(t)
	ctx := context.Background()
	img := env("GATEHOUSE_GATEWAY_IMAGE", containers.DefaultImage)
	labels := env("GATEHOUSE_CONFORMANCE_LABELS", DefaultLabels)
	results := env("GATEHOUSE_RESULTS_DIR", t.TempDir())

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

	cmd := exec.CommandContext(ctx, "go", "test", "-v", "-count=1", "-timeout=20m", "github.com/gatehouse-lab/gatehouse/scenarios", "-args",
		"-ginkgo.label-filter="+labels, "-ginkgo.no-color", "-ginkgo.json-report="+filepath.Join(results, "report.json"))
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_GATEWAY_URL="+deviceURL, "GATEHOUSE_NOTIFY_URL="+notifyURL,
		"GATEHOUSE_RESTART_CMD="+fmt.Sprintf("docker restart --time 30 %s", gw.GetContainerID()),
		"GATEHOUSE_UEM_LISTEN="+uemAddr, "GATEHOUSE_UEM_ADMIN_LISTEN="+uemAdmin, "GATEHOUSE_EXCHANGE_LISTEN="+exchangeAddr,
		"GATEHOUSE_UEM_TOKEN="+token, "GATEHOUSE_UEM_NOTIFY_SECRET="+secret, "GATEHOUSE_RESULTS_DIR="+results)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		logs, _ := gw.Logs(ctx)
		if logs != nil {
			b := make([]byte, 64<<10)
			n, _ := logs.Read(b)
			t.Logf("gateway container log (first %d bytes):\n%s", n, b[:n])
		}
		t.Fatalf("conformance suite against %s (%q): %v (results in %s)", img, labels, err, results)
	}
	t.Logf("conformance suite against %s passed in %s", img, time.Since(start).Round(time.Second))
	if labels == DefaultLabels {
		expectPassed(t, filepath.Join(results, "report.json"), "first-access", "wipe", "fail-open", "persistence")
	}
}

// expectPassed fails unless every feature label has a passed spec: a run
// that skipped them all (no restart hook, say) is no conformance result.
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
