package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCommand(t *testing.T) {
	td := filepath.Join("..", "..", "reports", "testdata")
	out := t.TempDir()
	in := []string{filepath.Join(td, "conformance.json"), filepath.Join(td, "load-a.json"), filepath.Join(td, "global-stats.csv")}
	if err := runCmd(t, append([]string{"report", "-o", out}, in...)...); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.html", "junit.xml", "summary.md", "specs.csv", "load-series.csv"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// --fail: the conformance report has a failed spec.
	if err := runCmd(t, append([]string{"report", "--fail", "-o", out}, in...)...); err == nil {
		t.Error("--fail with a failed spec exited 0")
	}
	bad := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(bad, []byte("not a report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runCmd(t, "report", "-o", out, bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("unknown input: %v, want an error naming %s", err, bad)
	}
}

func TestReportCompareCommand(t *testing.T) {
	td := filepath.Join("..", "..", "reports", "testdata")
	root := newRootCmd()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetArgs([]string{"report", "compare", "--markdown", filepath.Join(td, "load-a.json"), filepath.Join(td, "load-b.json")})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "| throughput | 191.763 ops/s | 54.241 ops/s | 0.283 |") {
		t.Errorf("compare output:\n%s", buf.String())
	}
	if err := runCmd(t, "report", "compare", filepath.Join(td, "conformance.json"), filepath.Join(td, "load-b.json")); err == nil {
		t.Error("compare accepted a Ginkgo report as a load run")
	}
}

// The CI templates' load spec is valid (a typo there would only show in
// another project's pipeline).
func TestCILoadSpec(t *testing.T) {
	s, err := loadSpec(filepath.Join("..", "..", "ci", "load-smoke.yaml"), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Thresholds.P99) == 0 || s.Thresholds.ErrorRate == nil {
		t.Errorf("ci/load-smoke.yaml has no thresholds: %+v", s.Thresholds)
	}
}
