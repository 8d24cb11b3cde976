package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A spec with app devices against --target is refused: only the lab
// provides the tunnel services, the echo servers and the certificates.
func TestLoadgenAppDevicesNeedTheLab(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "mixed.yaml")
	if err := os.WriteFile(spec, []byte("devices: 2\nduration: 1s\napps: {share: 0.5, http_rate: 1/s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runCmd(t, "loadgen", "run", "--spec", spec, "--target", "https://127.0.0.1:1", "-q")
	if err == nil || !strings.Contains(err.Error(), "app devices need --lab") {
		t.Fatalf("app devices against a target: %v", err)
	}
}
