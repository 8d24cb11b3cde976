package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/chaos"
)

// gatehouse report tells chaos results by their kind and summarises them:
// the figures and every finding with its seed and step.
func TestReportSummarisesChaosResults(t *testing.T) {
	dir := t.TempDir()
	res := chaos.Result{Kind: chaos.ResultKind, Mode: "in-process", Seed: 1}
	r := chaos.ScheduleResult{Seed: 7, Steps: 25, Faults: 4, Findings: []chaos.Finding{{Kind: chaos.WrongAllow, Seed: 7, Step: 12, Op: "sync", Device: "C7D1", Detail: "reached Exchange while blocked"}}}
	res.Totals.Add(r)
	res.Totals.Add(chaos.ScheduleResult{Seed: 8, Steps: 25, Faults: 2})
	res.Failures = []chaos.ScheduleResult{r}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "chaos.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := newRootCmd()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"report", "--fail", "-o", filepath.Join(dir, "report"), path})
	if err := cmd.Execute(); err == nil {
		t.Error("--fail: a campaign with a wrong allow passed")
	}
	md, err := os.ReadFile(filepath.Join(dir, "report", "chaos.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| chaos.json | in-process | 2 | 50 | 6 | 1 | 0 | 0 | 0 | 0 | 0 |", "`wrong_allow` seed 7 step 12 (sync C7D1)"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("chaos.md lacks %q:\n%s", want, md)
		}
	}
}
