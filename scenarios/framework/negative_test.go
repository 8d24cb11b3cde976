package framework

import (
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

func TestIsDecisionSpec(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   bool
	}{
		{[]string{"conformance", "wipe", "id:ACT-05"}, true},
		{[]string{"conformance", "security"}, true},
		{[]string{"conformance", "disruptive", "persistence"}, true},
		{[]string{"introspection", "wipe"}, false},       // not run against another gateway
		{[]string{"conformance", "transparency"}, false}, // not a decision label
		{[]string{"conformance"}, false},
	} {
		if got := IsDecisionSpec(tc.labels); got != tc.want {
			t.Errorf("IsDecisionSpec(%v) = %v, want %v", tc.labels, got, tc.want)
		}
	}
}

// The filter parses and selects exactly the specs IsDecisionSpec names.
func TestDecisionFilterSelectsDecisionSpecs(t *testing.T) {
	filter, err := types.ParseLabelFilter(DecisionFilter())
	if err != nil {
		t.Fatalf("%q: %v", DecisionFilter(), err)
	}
	cases := [][]string{{"conformance", "fail-open"}, {"conformance", "manual-override", "block"}, {"conformance", "slow", "policy"},
		{"introspection", "purge"}, {"conformance", "transparency"}, {"conformance", "disruptive"}}
	for _, l := range LabelTable {
		cases = append(cases, []string{LabelConformance, l.Name}, []string{l.Name})
	}
	for _, labels := range cases {
		if got, want := filter(labels), IsDecisionSpec(labels); got != want {
			t.Errorf("filter(%v) = %v, IsDecisionSpec = %v", labels, got, want)
		}
	}
}

func TestLabelTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range LabelTable {
		if seen[l.Name] {
			t.Errorf("label %q described twice", l.Name)
		}
		seen[l.Name] = true
		if l.Meaning == "" || l.Requires == "" {
			t.Errorf("label %q lacks its meaning or what a gateway needs for it", l.Name)
		}
	}
	for _, name := range []string{LabelConformance, LabelDisruptive, LabelIntrospection, LabelSlow, LabelSecurity,
		FeatureFirstAccess, FeatureBlock, FeatureManual, FeatureWipe, FeatureFailOpen, FeatureResync, FeaturePolicy,
		FeaturePersistence, FeaturePurge, FeatureRouting, FeatureRedirect, FeatureAttachments, FeatureDeviceAuth, FeatureKerberos,
		FeatureTLS, FeatureEntry, FeatureTransparency} {
		if !seen[name] {
			t.Errorf("label constant %q is not in LabelTable", name)
		}
	}
}

func TestNegativeControlSortsDecisionSpecs(t *testing.T) {
	it := func(text string, state types.SpecState, node types.NodeType, labels ...string) types.SpecReport {
		sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, ContainerHierarchyTexts: []string{"Wipe"}, LeafNodeText: text,
			LeafNodeLabels: labels, State: state}
		if state.Is(types.SpecStateFailureStates) || state == types.SpecStateSkipped && node != 0 {
			sr.Failure = types.Failure{Message: "boom\nmore", FailureNodeType: node}
		}
		return sr
	}
	r := types.Report{SpecReports: types.SpecReports{
		it("fails in its body", types.SpecStateFailed, types.NodeTypeIt, "conformance", "wipe"),
		it("times out in its body", types.SpecStateTimedout, types.NodeTypeIt, "conformance", "block"),
		it("passes", types.SpecStatePassed, 0, "conformance", "wipe"),
		it("passes its body, fails its cleanup", types.SpecStateFailed, types.NodeTypeCleanupAfterEach, "conformance", "policy"),
		it("world did not start", types.SpecStateFailed, types.NodeTypeBeforeEach, "conformance", "wipe"),
		it("interrupted", types.SpecStateInterrupted, types.NodeTypeIt, "conformance", "wipe"),
		it("skipped by itself", types.SpecStateSkipped, types.NodeTypeBeforeEach, "conformance", "kerberos"),
		it("not selected", types.SpecStateSkipped, 0, "conformance", "wipe"),
		it("relays", types.SpecStatePassed, 0, "conformance", "transparency"),
		it("introspects", types.SpecStatePassed, 0, "introspection", "wipe"),
		{LeafNodeType: types.NodeTypeReportAfterSuite, State: types.SpecStatePassed},
	}}
	c := NegativeControl(r)
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %q, want %d", what, got, len(want))
			return
		}
		for i := range want {
			if !strings.HasPrefix(got[i], "Wipe / "+want[i]) {
				t.Errorf("%s[%d] = %q, want %q", what, i, got[i], want[i])
			}
		}
	}
	check("failed", c.Failed, "fails in its body", "times out in its body")
	check("passed", c.Passed, "passes", "passes its body, fails its cleanup")
	check("broken", c.Broken, "world did not start", "interrupted")
	check("skipped", c.Skipped, "skipped by itself")
	err := c.Err()
	if err == nil || !strings.Contains(err.Error(), "Wipe / passes") || !strings.Contains(err.Error(), "world did not start (failed in BeforeEach: boom)") {
		t.Errorf("Err() = %v", err)
	}

	good := ControlResult{Failed: []string{"x"}, Skipped: []string{"y"}}
	if err := good.Err(); err != nil {
		t.Errorf("all failed: %v", err)
	}
	if err := (ControlResult{Skipped: []string{"y"}}).Err(); err == nil || !strings.Contains(err.Error(), "no decision spec ran") {
		t.Errorf("nothing ran: %v", err)
	}
	if !slices.Contains(DecisionLabels(), FeatureWipe) || slices.Contains(DecisionLabels(), LabelConformance) {
		t.Errorf("DecisionLabels() = %v", DecisionLabels())
	}
}

func TestLabelDocTableAndCoverage(t *testing.T) {
	specs := []ListedSpec{
		{Describe: "Wipe", Text: "a", IDs: []string{"ACT-05", "ATC-13"}, Labels: []string{"conformance", "wipe"}},
		{Describe: "Wipe", Text: "b", IDs: []string{"ACT-05"}, Labels: []string{"introspection", "wipe", "mystery"}},
		{Describe: "Relay", Text: "c", Labels: []string{"conformance", "relay-only"}},
	}
	if got := UndescribedLabels(specs); strings.Join(got, ",") != "mystery,relay-only" {
		t.Errorf("UndescribedLabels = %v", got)
	}
	table := LabelDocTable(specs)
	if !strings.Contains(table, "| `wipe` | remote wipe and account-only wipe | yes | 2 |") || !strings.Contains(table, "| `conformance` | black-box: runs against any gateway |  | 2 |") {
		t.Errorf("label table:\n%s", table)
	}
	sum := CoverageSummary(specs)
	if !strings.HasPrefix(sum, "3 specs (1 of them decision specs) cite 2 of the ") || !strings.Contains(sum, "they cite 1 of the ") {
		t.Errorf("summary: %s", sum) // ATC-13 (IP tunnelling) is cited but not implemented
	}
	if got := wrapWords("# ", []string{"aaaa", "bbbb", "cccc"}, 11); got != "# aaaa bbbb\n# cccc\n" {
		t.Errorf("wrapWords: %q", got)
	}
	doc := "x\n" + CoverageBegin + "\nold\n" + CoverageEnd + "\ny\n"
	got, err := ReplaceBlock(doc, CoverageBegin, CoverageEnd, "new\n")
	if err != nil || got != "x\n"+CoverageBegin+"\n\nnew\n\n"+CoverageEnd+"\ny\n" {
		t.Errorf("ReplaceBlock: %q, %v", got, err)
	}
	if _, err := ReplaceBlock("no markers", CoverageBegin, CoverageEnd, ""); err == nil {
		t.Error("ReplaceBlock without markers: no error")
	}
}
