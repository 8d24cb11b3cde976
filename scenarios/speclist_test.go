package scenarios_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"

	"github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var updateSpecList = flag.Bool("update-spec-list", false, "rewrite docs/spec/conformance-specs.yaml and the spec table of docs/conformance.md (go generate ./scenarios/...)")

// The generated list and the table made from it, relative to this package.
const (
	specListPath = "../docs/spec/conformance-specs.yaml"
	specDocPath  = "../docs/conformance.md"
)

// TestSpecListIsUpToDate runs the suite dry (this test binary, only
// TestScenarios, -ginkgo.dry-run: the tree is built, no spec runs) and
// compares its specs with the committed list and table; with
// -update-spec-list it writes them.
func TestSpecListIsUpToDate(t *testing.T) {
	if GinkgoParallelProcess() != 1 {
		t.Skip("parallel process 1 checks the spec list")
	}
	if _, err := os.Stat("../go.mod"); err != nil {
		t.Skip("not run from the source tree (a compiled suite): no spec list to compare with")
	}
	list, specs := dryRunSpecList(t)
	if l := framework.UndescribedLabels(specs); len(l) > 0 {
		t.Errorf("labels missing from framework.LabelTable (say whether they mark decision specs and what a gateway needs for them): %v", l)
	}
	doc, err := os.ReadFile(specDocPath)
	if err != nil {
		t.Fatal(err)
	}
	newDoc, err := framework.ReplaceSpecTable(string(doc), framework.SpecTable(specs))
	if err == nil {
		newDoc, err = framework.ReplaceBlock(newDoc, framework.LabelTableBegin, framework.LabelTableEnd, framework.LabelDocTable(specs))
	}
	if err == nil {
		newDoc, err = framework.ReplaceBlock(newDoc, framework.CoverageBegin, framework.CoverageEnd, framework.CoverageSummary(specs)+"\n")
	}
	if err != nil {
		t.Fatalf("%s: %v", specDocPath, err)
	}
	if *updateSpecList {
		if err := os.WriteFile(specListPath, list, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(specDocPath, []byte(newDoc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	switch old, err := os.ReadFile(specListPath); {
	case err != nil:
		t.Errorf("%v: run go generate ./scenarios/...", err)
	case !bytes.Equal(old, list):
		t.Errorf("%s differs from the suite's specs: run go generate ./scenarios/... and review the diff", specListPath)
	}
	if newDoc != string(doc) {
		t.Errorf("the generated parts of %s (spec table, label table, coverage) differ from the suite's specs: run go generate ./scenarios/... and review the diff", specDocPath)
	}
}

// dryRunSpecList runs this binary's suite dry and returns the spec list,
// as the file and as data.
func dryRunSpecList(t *testing.T) ([]byte, []framework.ListedSpec) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "dry-run.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestScenarios$", "-ginkgo.dry-run", "-ginkgo.no-color",
		"-ginkgo.label-filter=", "-ginkgo.json-report="+report)
	// Nothing of a real run: no results directory, no gateway under test.
	cmd.Env = append(os.Environ(), "GATEHOUSE_RESULTS_DIR=", "GATEHOUSE_GATEWAY_URL=", "GATEHOUSE_UEM_ADMIN_URL=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dry run of the suite: %v\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rs []Report
	if err := json.Unmarshal(b, &rs); err != nil || len(rs) != 1 {
		t.Fatalf("%s: %d reports, %v", report, len(rs), err)
	}
	specs := framework.SpecList(rs[0], "scenarios")
	if len(specs) == 0 {
		t.Fatal("the dry run listed no spec")
	}
	list, err := framework.MarshalSpecList(specs)
	if err != nil {
		t.Fatal(err)
	}
	return list, specs
}
