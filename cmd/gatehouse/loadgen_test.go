package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/loadgen"
)

// `loadgen merge --spec` exits 99 when the merged results break a
// threshold, 0 when they keep to it, and 1 (a plain error naming the
// field) when the spec is bad.
func TestLoadgenMergeExitCodes(t *testing.T) {
	dir := t.TempDir()
	rec := loadgen.NewRecorder(time.Now())
	for i := range 100 {
		rec.Record("Sync", nil, time.Duration(i)*time.Millisecond) // p99 ≈ 99ms
	}
	res := filepath.Join(dir, "a.json")
	if err := rec.Results().WriteFile(res); err != nil {
		t.Fatal(err)
	}
	spec := func(body string) string {
		p := filepath.Join(dir, "spec.yaml")
		if err := os.WriteFile(p, []byte("devices: 1\nduration: 1s\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	err := runCmd(t, "loadgen", "merge", res, "--spec", spec("thresholds:\n  p99: {Sync: 10ms}\n"))
	var ec *exitCodeError
	if !errors.As(err, &ec) || ec.code != loadgen.ExitThresholds {
		t.Errorf("broken threshold: %v, want exit %d", err, loadgen.ExitThresholds)
	}
	if err := runCmd(t, "loadgen", "merge", res, "--spec", spec("thresholds:\n  p99: {Sync: 1s}\n")); err != nil {
		t.Errorf("kept threshold: %v", err)
	}
	err = runCmd(t, "loadgen", "merge", res, "--spec", spec("thresholds:\n  p99: {Sync: soon}\n"))
	if err == nil || errors.As(err, &ec) || !strings.Contains(err.Error(), "thresholds.p99.Sync") {
		t.Errorf("bad spec: %v, want an error naming thresholds.p99.Sync", err)
	}
}

// Every preset prints a spec that parses.
func TestLoadgenPresetsParse(t *testing.T) {
	for _, name := range loadgen.PresetNames() {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetArgs([]string{"loadgen", "preset", name})
		root.SetOut(&out)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if _, err := loadgen.ParseSpec(out.Bytes()); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if err := runCmd(t, "loadgen", "preset", "nosuch"); err == nil || !strings.Contains(err.Error(), "coldstart") {
		t.Errorf("unknown preset: %v, want the list of presets", err)
	}
}

// The presets that drive the lab are refused against a --target, before
// anything runs.
func TestLoadgenLabPresetsNeedTheLab(t *testing.T) {
	for _, name := range []string{"failopen", "coldstart", "resync"} {
		err := runCmd(t, "loadgen", "run", "--preset", name, "--target", "https://127.0.0.1:1", "-q")
		if err == nil || !strings.Contains(err.Error(), "the "+name+" preset needs --lab") {
			t.Errorf("%s against a target: %v", name, err)
		}
	}
}
