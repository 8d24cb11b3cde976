package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway"
)

// A misspelt setting in the gateway's YAML is an error naming the field
// and its line, not a silently ignored line that leaves the default (here
// fail-open on) in force.
func TestGatewayYAMLRejectsUnknownFields(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		wantErr    []string // substrings; none: loads
	}{
		{"typo at the top", "data_dir: /tmp/gh\nfail_opne: false\n", []string{"line 2", "fail_opne"}},
		{"typo in a section", "uem:\n  url: https://127.0.0.1:8443\n  tokn: x\n", []string{"line 3", "tokn"}},
		{"two documents", "fail_open: false\n---\nfail_open: true\n", []string{"more than one YAML document"}},
		{"known fields", "fail_open: false\ncheck_interval: 1m\ncontrol_read_timeout: 5s\nuem:\n  url: https://127.0.0.1:8443\n", nil},
		{"empty file", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := gateway.Defaults()
			err := loadYAML(path, &cfg)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("loadYAML: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("loaded; fail_open is %v", cfg.FailOpen)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
