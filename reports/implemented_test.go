package reports

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImplementedMatchesChecklist: the embedded docs/spec/implemented.yaml
// is the committed one (go generate ./reports/) and agrees with the
// checklist.
func TestImplementedMatchesChecklist(t *testing.T) {
	out := filepath.Join(t.TempDir(), "gen.go")
	cmd := exec.Command("go", "run", "./internal/genimpl", "-in", "../docs/spec/implemented.yaml", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genimpl: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("implemented_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("implemented_gen.go is stale: run go generate ./reports/")
	}
	if _, err := Implemented(); err != nil {
		t.Fatal(err)
	}
	impl, out2 := ImplementedItems()
	if len(impl) < 200 || len(impl)+out2 > len(checklist) {
		t.Errorf("%d implemented items, %d out of scope, of %d", len(impl), out2, len(checklist))
	}
}

func TestImplementedRejectsWhatTheChecklistLacks(t *testing.T) {
	valid, err := os.ReadFile("../docs/spec/implemented.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ from, to, want string }{
		"unknown item":      {"except: [ATC-13, ATC-14]", "except: [ATC-13, ATC-99]", "ATC-99 is not a checklist item"},
		"item of another":   {"except: [ATC-13, ATC-14]", "except: [ATC-13, DC-01]", "DC-01 belongs to section DC"},
		"unknown section":   {"section: MMB", "section: MMX", `section "MMX" is not a prefix`},
		"section left out":  {"  - section: DEF\n    status: implemented\n", "", "checklist section DEF"},
		"unknown status":    {"section: DC\n    status: implemented", "section: DC\n    status: done", `status "done"`},
		"unknown field":     {"section: DC\n    status: implemented", "section: DC\n    state: implemented", "field state not found"},
		"partial, no items": {"status: partial\n    items: [SCOPE-05, SCOPE-10, SCOPE-12]", "status: partial", "a partial section lists"},
		"twice":             {"  - section: DEF\n", "  - section: DC\n    status: implemented\n  - section: DEF\n", "section DC given twice"},
	} {
		if !bytes.Contains(valid, []byte(tc.from)) {
			t.Fatalf("%s: the file lacks %q", name, tc.from)
		}
		_, err := parseImplemented(bytes.Replace(valid, []byte(tc.from), []byte(tc.to), 1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, tc.want)
		}
	}
}

func TestCoverageOf(t *testing.T) {
	c := CoverageOf([]string{"FLOW-01", "ATC-13", "FLT-01", "DC-01", "DC-01"})
	if len(c.Cited) != 2 || c.Cited[0] != "FLOW-01" || c.Cited[1] != "DC-01" {
		t.Errorf("cited %v", c.Cited)
	}
	if strings.Join(c.Elsewhere, " ") != "ATC-13 FLT-01" {
		t.Errorf("elsewhere %v (ATC-13 is IP tunnelling, FLT out of scope)", c.Elsewhere)
	}
	if len(c.Cited)+len(c.NotCited) != c.Implemented || c.OutOfScope != 6 {
		t.Errorf("%+v", c)
	}
	if !strings.HasPrefix(c.String(), "2 of the ") {
		t.Errorf("%s", c)
	}
}
