package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeSuite writes an executable that records its arguments and the
// GATEHOUSE_ environment it was given into out, as a compiled suite
// would receive them, and exits 0.
func fakeSuite(t *testing.T, path, out string) {
	t.Helper()
	script := "#!/bin/sh\n{ for a in \"$@\"; do echo \"arg $a\"; done; env | grep '^GATEHOUSE_' | sed 's/^/env /'; } >" + out + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func recorded(t *testing.T, out string) []string {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the suite did not run: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// The conformance command's flags are the suite's settings: they reach
// the compiled suite as its environment, with the results directory and
// this binary as the gateway binary; only TestScenarios runs.
func TestConformanceHandsTheSettingsToTheCompiledSuite(t *testing.T) {
	dir := t.TempDir()
	suite, out := filepath.Join(dir, "my-suite"), filepath.Join(dir, "recorded")
	fakeSuite(t, suite, out)
	t.Setenv("GATEHOUSE_KILL_CMD", "kill-from-env")
	results := filepath.Join(dir, "results")
	err := runCmd(t, "conformance", "--suite", suite, "--results", results, "--label-filter", "wipe",
		"--gateway-url", "https://127.0.0.1:18443", "--restart-cmd", "systemctl restart gw", "--spec-timeout", "2m")
	if err != nil {
		t.Fatal(err)
	}
	lines := recorded(t, out)
	exe, _ := os.Executable()
	for _, want := range []string{
		"arg -test.run=^TestScenarios$", "arg -ginkgo.label-filter=wipe", "arg -ginkgo.json-report=" + filepath.Join(results, "report.json"),
		"env GATEHOUSE_GATEWAY_URL=https://127.0.0.1:18443", "env GATEHOUSE_RESTART_CMD=systemctl restart gw",
		"env GATEHOUSE_KILL_CMD=kill-from-env", "env GATEHOUSE_SPEC_TIMEOUT=2m0s",
		"env GATEHOUSE_RESULTS_DIR=" + results, "env GATEHOUSE_GATEWAY_BINARY=" + exe,
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("the suite did not get %q; it got:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

// Without --suite, the compiled suite beside the gatehouse binary runs
// (the image ships one), wherever the working directory is.
func TestConformanceRunsTheSuiteBesideTheBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	beside := filepath.Join(filepath.Dir(exe), suiteBinary)
	if _, err := os.Stat(beside); err == nil {
		t.Skipf("%s exists already", beside)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "recorded")
	fakeSuite(t, beside, out)
	t.Cleanup(func() { os.Remove(beside) })
	t.Chdir(dir) // not the source tree
	if err := runCmd(t, "conformance", "--results", filepath.Join(dir, "results")); err != nil {
		t.Fatal(err)
	}
	if lines := recorded(t, out); !slices.Contains(lines, "arg -test.run=^TestScenarios$") {
		t.Errorf("recorded %q", lines)
	}
}

// Without a compiled suite and outside the source tree, the error says
// what is missing instead of running go test in the wrong place.
func TestConformanceWithoutASuiteSaysWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	err := runCmd(t, "conformance", "--results", filepath.Join(dir, "results"))
	for _, want := range []string{"no compiled suite", "--suite PATH", suiteBinary, "not the gatehouse source tree"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	}
	err = runCmd(t, "conformance", "--suite", filepath.Join(dir, "nosuch.test"))
	if err == nil || !strings.Contains(err.Error(), "--suite") || !strings.Contains(err.Error(), "nosuch.test") {
		t.Errorf("a missing --suite: %v", err)
	}
}
