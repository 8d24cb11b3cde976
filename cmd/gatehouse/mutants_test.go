package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/scenarios/mutation"
)

// gatehouse report shows the mutation score of a results file, beside
// or without the other inputs, and --fail fails on an unexplained
// survivor.
func TestReportShowsTheMutationScore(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "mutation.json")
	r := &mutation.Results{Kind: mutation.ResultsKind, Started: time.Now().UTC(), LabelFilter: "!slow", Runs: []mutation.Result{
		{Mutant: "fail-closed-ignored", File: "01-fail-closed-ignored.patch", Defect: "d", Mode: mutation.InProcess, Outcome: mutation.Caught, Spec: "UEM unreachable fail-closed"},
		{Mutant: "blocks-not-counted", File: "45-blocks-not-counted.patch", Defect: "d", Mode: mutation.InProcess, Outcome: mutation.Survived},
	}}
	if err := r.WriteFile(results); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report")
	conformance := filepath.Join("..", "..", "reports", "testdata", "conformance.json")
	root := newRootCmd()
	var stdout bytes.Buffer
	root.SetArgs([]string{"report", "-o", out, conformance, results})
	root.SetOut(&stdout)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "mutation score in-process: 1/2 caught (50 %)") {
		t.Errorf("the score is not printed:\n%s", stdout.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "mutation-score.md"))
	if err != nil || !strings.Contains(string(md), "| blocks-not-counted | d | **survived** |") {
		t.Errorf("mutation-score.md: %v\n%s", err, md)
	}
	if summary, _ := os.ReadFile(filepath.Join(out, "summary.md")); !strings.Contains(string(summary), "## Mutation score") {
		t.Error("summary.md lacks the mutation score")
	}
	if err := runCmd(t, "report", "--fail", "-o", out, results); err == nil {
		t.Error("--fail with an unexplained survivor exited 0")
	}
}

func TestMutantsRunRefusesBadSelections(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mutants", "run", "--dir", "../../" + mutation.DefaultDir, "--mode", "sideways"}, `--mode "sideways"`},
		{[]string{"mutants", "run", "--dir", "../../" + mutation.DefaultDir, "--only", "no-such-mutant"}, "no-such-mutant"},
	} {
		err := runCmd(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
