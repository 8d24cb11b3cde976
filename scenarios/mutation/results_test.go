package mutation

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

func sampleRuns() []Result {
	return []Result{
		{Mutant: "a", File: "01-a.patch", Defect: "a | b", Mode: InProcess, Outcome: Caught, Spec: "First access / blocks", Pass: "targeted"},
		{Mutant: "a", File: "01-a.patch", Defect: "a | b", Mode: BlackBox, Outcome: Survived, Breaks: []string{"FO-04"}},
		{Mutant: "b", File: "02-b.patch", Defect: "b", Mode: InProcess, Outcome: Survived, Expected: "a counter only the admin API shows"},
		{Mutant: "b", File: "02-b.patch", Defect: "b", Mode: BlackBox, Outcome: Errored, Error: "does not build"},
		{Mutant: "c", File: "03-c.patch", Defect: "c", Mode: InProcess, Outcome: Survived, Expected: "needs a spec"},
		{Mutant: "c", File: "03-c.patch", Defect: "c", Mode: BlackBox, Outcome: Survived, Expected: "needs a spec"},
	}
}

func TestScoresCountByMode(t *testing.T) {
	got := Scores(sampleRuns())
	if len(got) != 2 || got[0] != (ModeScore{InProcess, 1, 2, 0}) || got[1] != (ModeScore{BlackBox, 0, 2, 1}) {
		t.Fatalf("Scores = %+v", got)
	}
	if got[0].Percent() != 100.0/3 || got[1].Total() != 2 {
		t.Errorf("in-process %.0f %%, black-box total %d", got[0].Percent(), got[1].Total())
	}
}

func TestUnexpectedResults(t *testing.T) {
	var bad []string
	for _, r := range sampleRuns() {
		if r.Unexpected() {
			bad = append(bad, r.Mutant+"/"+string(r.Mode))
		}
	}
	if got := strings.Join(bad, " "); got != "a/black-box b/black-box" {
		t.Errorf("unexpected results: %s; want the unexplained survivor and the error", got)
	}
}

func TestWriteMarkdownIsOneRowPerMutant(t *testing.T) {
	var b strings.Builder
	if err := WriteMarkdown(&b, sampleRuns()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Mutation score: in-process 1/3 caught (33 %); black-box 0/2 caught (0 %), 1 could not be tried",
		"| mutant | defect | in-process | black-box |",
		"| a | a \\| b | caught by “First access / blocks” | **survived** |",
		"| b | b | survived (expected) | **error** |",
		"- a, black-box (FO-04): no reason given: a spec is missing",
		"- b, in-process: a counter only the admin API shows",
		"- b, black-box: could not be tried: does not build",
		"- c, in-process and black-box: needs a spec",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestResultsFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mutation.json")
	r := &Results{Kind: ResultsKind, Commit: "abc", Started: time.Unix(0, 0).UTC(), LabelFilter: "!slow", Runs: sampleRuns()}
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !IsResults(b) || IsResults([]byte(`[{"SuitePath":"x"}]`)) || IsResults([]byte(`{"kind":"other"}`)) {
		t.Error("IsResults does not tell a results file from others")
	}
	runs, err := LoadResults(path)
	if err != nil || len(runs) != 6 || runs[3].Error != "does not build" {
		t.Fatalf("LoadResults = %+v, %v", runs, err)
	}
}

func TestFirstFailureNamesTheFirstFailedSpec(t *testing.T) {
	rep := []types.Report{{SpecReports: types.SpecReports{
		{ContainerHierarchyTexts: []string{"Wipe"}, LeafNodeText: "is delivered", LeafNodeType: types.NodeTypeIt, State: types.SpecStatePassed},
		{ContainerHierarchyTexts: []string{"UEM unreachable"}, LeafNodeText: "fail-closed blocks", LeafNodeType: types.NodeTypeIt, State: types.SpecStateFailed,
			Failure: types.Failure{Message: "Expected\n  <bool>: true"}},
		{LeafNodeText: "later", LeafNodeType: types.NodeTypeIt, State: types.SpecStateFailed},
	}}}
	path := filepath.Join(t.TempDir(), "report.json")
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := firstFailure(path)
	if err != nil || c.spec != "UEM unreachable fail-closed blocks" || c.failure != "Expected" {
		t.Fatalf("firstFailure = %+v, %v", c, err)
	}
}

// The black-box script starts one process, records its pid, and signals
// only that one.
func TestGatewayScriptStartsAndKillsItsProcess(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "gw.pid")
	script := filepath.Join(dir, "gw.sh")
	body := gatewayScript(pidfile, filepath.Join(dir, "gw.log"), []string{"X=it's"}, []string{"sleep", "60"})
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	sh := func(verb string) {
		t.Helper()
		if out, err := exec.Command("sh", script, verb).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", verb, err, out)
		}
	}
	sh("start")
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	if err := exec.Command("kill", "-0", pid).Run(); err != nil {
		t.Fatalf("the started process %s is not running: %v", pid, err)
	}
	sh("kill")
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("the pid file outlived kill: %v", err)
	}
	if out, _ := exec.Command("ps", "-o", "stat=", "-p", pid).Output(); strings.TrimSpace(string(out)) != "" && !strings.HasPrefix(strings.TrimSpace(string(out)), "Z") {
		t.Errorf("process %s still runs after kill (state %s)", pid, out)
	}
	sh("stop") // nothing to stop: no error
}
