package loadgen

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const goodSpec = `
name: t
devices: 100
duration: 10s
users: 3
new_share: 0.2
mix:
  platforms: {iOS: 60, Android: 40}
  clients: {native: 80, secure_app: 20}
  versions: {"14.1": 70, "16.1": 30}
profiles:
  default: {ping_heartbeat: 60s, sync_rate: 12/h, sendmail_rate: 2/h, attachment_share: 0.1}
arrival: {shape: linear, from: 1, to: 20, over: 10s}
thresholds:
  p99: {Sync: 500ms, all: 1s}
  error_rate: 0.01
`

func TestParseSpec(t *testing.T) {
	s, err := ParseSpec([]byte(goodSpec))
	if err != nil {
		t.Fatal(err)
	}
	if s.Devices != 100 || time.Duration(s.Duration) != 10*time.Second || s.Profiles["default"].SyncRate != Rate(12.0/3600) ||
		*s.Thresholds.ErrorRate != 0.01 || time.Duration(s.Thresholds.P99["Sync"]) != 500*time.Millisecond {
		t.Fatalf("parsed %+v", s)
	}
}

func TestParseSpecErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ edit, old, field string }{
		{"devices: 0", "devices: 100", "devices"},
		{"duration: soon", "duration: 10s", "duration"},
		{"new_share: 2", "new_share: 0.2", "new_share"},
		{"devices: many", "devices: 100", "devices"},
		{"devcies: 100", "devices: 100", "devcies"},
		{"  platforms: {iOS: 60, Symbian: 40}", "  platforms: {iOS: 60, Android: 40}", "mix.platforms.Symbian"},
		{`  versions: {"2.5": 1}`, `  versions: {"14.1": 70, "16.1": 30}`, "mix.versions.2.5"},
		{"  default: {ping_heartbeat: 2h}", "  default: {ping_heartbeat: 60s, sync_rate: 12/h, sendmail_rate: 2/h, attachment_share: 0.1}", "profiles.default.ping_heartbeat"},
		{"  default: {sync_rate: 12/week}", "  default: {ping_heartbeat: 60s, sync_rate: 12/h, sendmail_rate: 2/h, attachment_share: 0.1}", "profiles.default.sync_rate"},
		{"arrival: {shape: zigzag}", "arrival: {shape: linear, from: 1, to: 20, over: 10s}", "arrival.shape"},
		{"arrival: {shape: sine, rate: 5, amplitude: 9, period: 10s}", "arrival: {shape: linear, from: 1, to: 20, over: 10s}", "arrival.amplitude"},
		{"arrival: {shape: steps, steps: [{at: 5s, rate: 1}, {at: 2s, rate: 3}]}", "arrival: {shape: linear, from: 1, to: 20, over: 10s}", "arrival.steps[1].at"},
		{"  p99: {Fetch: 1s}", "  p99: {Sync: 500ms, all: 1s}", "thresholds.p99.Fetch"},
		{"  error_rate: 5", "  error_rate: 0.01", "thresholds.error_rate"},
	} {
		src := strings.Replace(goodSpec, tc.old, tc.edit, 1)
		_, err := ParseSpec([]byte(src))
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%q: got %v, want a FieldError", tc.edit, err)
			continue
		}
		if fe.Field != tc.field || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%q: error %q names %q, want %q", tc.edit, err, fe.Field, tc.field)
		}
	}
}
