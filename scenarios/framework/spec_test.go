package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"
)

func TestCheckSpec(t *testing.T) {
	labels, err := checkSpec("lets new devices in with the server's policy", IDs("FLOW-05", "FO-02"))
	if err != nil || !slices.Equal(labels, ginkgo.Labels{"id:FLOW-05", "id:FO-02"}) {
		t.Fatalf("labels %q, err %v", labels, err)
	}
	for _, c := range []struct {
		text string
		ids  Items
		want string
	}{
		{"a spec", IDs("FO-01", "NOPE-01"), `"NOPE-01" is not an item of SPEC-CHECKLIST.md`},
		{"a spec", IDs("FO-01", "FO-01"), "FO-01 given twice"},
		{"FO-01 a UEM answering 401 is not unreachable", IDs("FO-01"), "the text names checklist item FO-01"},
		{"as ACT-02/03 say", nil, "the text names checklist item ACT-02"},
	} {
		if _, err := checkSpec(c.text, c.ids); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("checkSpec(%q, %q): error %v, want one containing %q", c.text, c.ids, err, c.want)
		}
	}
	if _, err := checkSpec("speaks of HTTP-2 framing and X-1", nil); err != nil {
		t.Errorf("a text with no checklist item: %v", err)
	}
}

// suiteEnv selects, in the test binary run by runSuite, which tiny Ginkgo
// suite TestSpecSuites runs.
const suiteEnv = "GATEHOUSE_FRAMEWORK_TEST_SUITE"

// TestSpecSuites is not a test of its own: runSuite runs the test binary
// again with suiteEnv set, and this runs the Ginkgo suite it names.
func TestSpecSuites(t *testing.T) {
	name := os.Getenv(suiteEnv)
	if name == "" {
		t.Skip("runs only as runSuite's subprocess")
	}
	switch name {
	case "unknown-id":
		ginkgo.Describe("a container", func() {
			It("checks something", IDs("FO-01", "NOPE-01"), func() {})
		})
	case "ids-as-labels":
		ginkgo.Describe("a container", func() {
			It("checks fail-open", IDs("FLOW-05", "FO-02"), Conformance(FeatureFailOpen), func() {})
			It("checks nothing of the checklist", Security(), func() {})
		})
	case "spec-context":
		TestContext.SpecTimeout = 300 * time.Millisecond
		f := &Framework{}
		ginkgo.Describe("a container", func() {
			It("runs past its default timeout", func() {
				select {
				case <-f.Ctx().Done():
					fmt.Println("MARK ctx cancelled by the timeout")
				case <-time.After(10 * time.Second):
					fmt.Println("MARK ctx never cancelled")
				}
			})
			It("takes its context as an argument", func(ctx context.Context) {
				if ctx == f.Ctx() && ctx.Err() == nil {
					fmt.Println("MARK the argument is f.Ctx()")
				}
				ginkgo.DeferCleanup(func() {
					if f.Ctx().Err() == nil {
						fmt.Println("MARK cleanups get a live context")
					}
				})
			})
		})
	case "raw-it":
		ginkgo.Describe("a container", func() {
			New()
			ginkgo.It("was declared with ginkgo.It", func() {})
		})
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	ginkgo.RunSpecs(t, "framework "+name)
}

// runSuite runs TestSpecSuites' suite name in a subprocess and returns
// its output, its JSON report and whether it passed.
func runSuite(t *testing.T, name string) (string, []ginkgo.SpecReport, bool) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpecSuites$", "-ginkgo.no-color", "-ginkgo.json-report="+report)
	cmd.Env = append(os.Environ(), suiteEnv+"="+name, "GATEHOUSE_RESULTS_DIR=")
	b, err := cmd.CombinedOutput()
	// Without colours, on one line: Ginkgo wraps its messages.
	out := strings.Join(strings.Fields(ansi.ReplaceAllString(string(b), "")), " ")
	var specs []ginkgo.SpecReport
	if b, rerr := os.ReadFile(report); rerr == nil {
		var rs []ginkgo.Report
		if jerr := json.Unmarshal(b, &rs); jerr != nil {
			t.Fatalf("%s: %v", report, jerr)
		}
		for _, r := range rs {
			specs = append(specs, r.SpecReports...)
		}
	}
	return out, specs, err == nil
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// An ID that is not in the checklist fails the suite while Ginkgo builds
// the tree: no spec runs.
func TestUnknownIDFailsTheSuiteWhileTheTreeIsBuilt(t *testing.T) {
	out, specs, passed := runSuite(t, "unknown-id")
	if passed {
		t.Fatalf("the suite passed:\n%s", out)
	}
	if !strings.Contains(out, `"NOPE-01" is not an item of SPEC-CHECKLIST.md`) || !strings.Contains(out, "panic while constructing the spec tree") {
		t.Errorf("output does not say the tree failed on NOPE-01:\n%s", out)
	}
	for _, s := range specs {
		if s.LeafNodeType == types.NodeTypeIt {
			t.Errorf("a spec was reported (%q): the tree should not have been built", s.LeafNodeText)
		}
	}
}

// A spec's items become id: labels, which the label filter selects.
func TestIDsBecomeLabels(t *testing.T) {
	out, specs, passed := runSuite(t, "ids-as-labels")
	if !passed {
		t.Fatalf("the suite failed:\n%s", out)
	}
	got := map[string][]string{}
	for _, s := range specs {
		if s.LeafNodeType == types.NodeTypeIt {
			got[s.LeafNodeText] = s.Labels()
		}
	}
	if want := []string{"conformance", "fail-open", "id:FLOW-05", "id:FO-02"}; !slices.Equal(got["checks fail-open"], want) {
		t.Errorf("labels %q, want %q", got["checks fail-open"], want)
	}
	if want := []string{"conformance", "security"}; !slices.Equal(got["checks nothing of the checklist"], want) {
		t.Errorf("labels %q, want %q", got["checks nothing of the checklist"], want)
	}
}

// Every spec body runs with a context Ginkgo cancels on the spec's
// timeout (TestContext.SpecTimeout unless the spec sets one); f.Ctx() is
// that context while the body runs.
func TestSpecContextIsCancelledOnTimeout(t *testing.T) {
	out, specs, passed := runSuite(t, "spec-context")
	if passed {
		t.Fatalf("the suite passed; the first spec should have timed out:\n%s", out)
	}
	for _, want := range []string{"MARK ctx cancelled by the timeout", "MARK the argument is f.Ctx()", "MARK cleanups get a live context"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, s := range specs {
		if s.LeafNodeText == "runs past its default timeout" && s.State != types.SpecStateTimedout {
			t.Errorf("first spec %s, want timedout", s.State)
		}
	}
}

// A spec declared with ginkgo.It in a Framework's container fails before
// its world starts.
func TestSpecDeclaredWithGinkgoItFails(t *testing.T) {
	out, _, passed := runSuite(t, "raw-it")
	if passed || !strings.Contains(out, "declare scenario specs with framework.It") {
		t.Errorf("passed %v, output:\n%s", passed, out)
	}
}
