package mutation

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/reports"
)

// minCatalogue is the floor for the catalogue's size.
const minCatalogue = 30

func catalogue(t *testing.T) []Mutant {
	t.Helper()
	ms, err := Load(filepath.Join("..", "..", DefaultDir))
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// The drift check: every patch applies cleanly to the current tree. A
// refactor that breaks one fails here; refresh the patch (apply it by
// hand, fix the conflict, git diff the file into it under its header).
func TestCataloguePatchesApplyToTheTree(t *testing.T) {
	peers.Require(t, "git", "git")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range catalogue(t) {
		if err := Apply(context.Background(), root, m, true); err != nil {
			t.Errorf("%v\n(refresh %s/%s against the current code)", err, DefaultDir, m.File)
		}
	}
}

func TestCatalogueHeaders(t *testing.T) {
	ms := catalogue(t)
	if len(ms) < minCatalogue {
		t.Errorf("the catalogue has %d mutants; at least %d", len(ms), minCatalogue)
	}
	for _, m := range ms {
		for _, id := range m.Breaks {
			if _, ok := reports.LookupItem(id); !ok {
				t.Errorf("%s: breaks %s, which is not in the checklist", m.File, id)
			}
		}
		if f := m.TargetFilter(); f != "" {
			if _, err := types.ParseLabelFilter(f); err != nil {
				t.Errorf("%s: targeted label filter %q: %v", m.File, f, err)
			}
		}
		if strings.Count(m.Defect, ". ") > 2 {
			t.Errorf("%s: say the defect in a sentence or two, not %q", m.File, m.Defect)
		}
	}
}

func TestParseRefusesBadPatches(t *testing.T) {
	diff := "diff --git a/gateway/x.go b/gateway/x.go\n--- a/gateway/x.go\n+++ b/gateway/x.go\n@@ -1 +1 @@\n-a\n+b\n"
	good := "# name: x\n# defect: d.\n# breaks: FO-01\n" + diff
	if _, err := Parse("01-x.patch", []byte(good)); err != nil {
		t.Fatalf("a good patch: %v", err)
	}
	for _, tc := range []struct{ name, file, text, want string }{
		{"unknown field", "01-x.patch", "# name: x\n# defect: d.\n# breaks: FO-01\n# reason: r\n" + diff, `unknown header field "reason"`},
		{"name differs", "01-y.patch", good, `is not the file's name "y"`},
		{"bad file name", "x.patch", good, "NN-name.patch"},
		{"no defect", "01-x.patch", "# name: x\n# breaks: FO-01\n" + diff, `"defect" is required`},
		{"no items, no focus", "01-x.patch", "# name: x\n# defect: d.\n" + diff, "breaks"},
		{"no diff", "01-x.patch", "# name: x\n# defect: d.\n# breaks: FO-01\n", "no diff"},
		{"a test file", "01-x.patch", strings.ReplaceAll(good, "x.go", "x_test.go"), "non-test"},
		{"outside the gateway", "01-x.patch", strings.ReplaceAll(good, "gateway/x.go", "fakes/uem/x.go"), "non-test gateway/ or protocol/"},
		{"field twice", "01-x.patch", "# name: x\n" + good, "given twice"},
	} {
		_, err := Parse(tc.file, []byte(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestExpectedSurvivalByMode(t *testing.T) {
	m := Mutant{SurvivesBlackBox: "only the admin API switches it"}
	if m.ExpectedSurvival(InProcess) != "" || m.ExpectedSurvival(BlackBox) != "only the admin API switches it" {
		t.Errorf("survives-black-box: in-process %q, black-box %q", m.ExpectedSurvival(InProcess), m.ExpectedSurvival(BlackBox))
	}
	m.Survives = "no spec can see it"
	if m.ExpectedSurvival(InProcess) != m.Survives || m.ExpectedSurvival(BlackBox) != m.SurvivesBlackBox {
		t.Error("survives applies to every mode, survives-black-box wins in black-box")
	}
	m.SurvivesInProcess = "the spec's device sends no port"
	if m.ExpectedSurvival(InProcess) != m.SurvivesInProcess {
		t.Error("survives-in-process wins in-process")
	}
}

func TestTargetFilter(t *testing.T) {
	m := Mutant{Breaks: []string{"FO-01", "DC-03"}, Focus: "security && block"}
	if got, want := m.TargetFilter(), "id:FO-01 || id:DC-03 || (security && block)"; got != want {
		t.Errorf("TargetFilter = %q, want %q", got, want)
	}
	f, err := types.ParseLabelFilter(m.TargetFilter())
	if err != nil {
		t.Fatal(err)
	}
	if !f([]string{"id:DC-03"}) || !f([]string{"security", "block"}) || f([]string{"security"}) {
		t.Error("the filter does not select the specs of the items and the focus")
	}
}

func TestSelectSampleRotatesWithTheKey(t *testing.T) {
	var all []Mutant
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		all = append(all, Mutant{Name: n, File: "0" + n + "-" + n + ".patch"})
	}
	names := func(ms []Mutant) string {
		var s []string
		for _, m := range ms {
			s = append(s, m.Name)
		}
		return strings.Join(s, ",")
	}
	first, err := Select(all, nil, 2, "commit-1")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Select(all, nil, 2, "commit-1")
	if len(first) != 2 || names(first) != names(again) {
		t.Fatalf("sample %s then %s: want the same two for the same key", names(first), names(again))
	}
	seen := map[string]bool{}
	for _, key := range []string{"commit-1", "commit-2", "commit-3", "commit-4", "commit-5", "commit-6"} {
		ms, _ := Select(all, nil, 2, key)
		seen[names(ms)] = true
	}
	if len(seen) < 2 {
		t.Error("six keys picked the same sample: the key does not rotate it")
	}
	only, err := Select(all, []string{"c", "0a-a.patch", "c"}, 0, "")
	if err != nil || names(only) != "c,a" {
		t.Errorf("Select(only c, 0a-a.patch, c) = %s, %v", names(only), err)
	}
	if _, err := Select(all, []string{"zz"}, 0, ""); err == nil || !strings.Contains(err.Error(), "zz") {
		t.Errorf("an unknown name: %v", err)
	}
}
