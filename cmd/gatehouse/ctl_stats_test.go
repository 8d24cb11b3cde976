package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// ctlRunner runs `gatehouse ctl` against the admin API at url with the
// token "tok" read from a file, as a user would; the ctl tests share it.
func ctlRunner(t *testing.T, url string) func(args ...string) (string, error) {
	tokFile := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := newCtlCmd()
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append([]string{"--admin", url, "--admin-token-file", tokFile, "--insecure"}, args...))
		err := cmd.Execute()
		return strings.TrimSpace(out.String()), err
	}
}

// STA-11: `ctl stats download -o x.zip` writes a ZIP with global-stats.csv
// (the logged rows) and all-device-stats.csv (one row per device).
func TestSTA11CtlStatsDownloadWritesTheZip(t *testing.T) {
	dir := t.TempDir()
	reg, peaks := stats.NewRegistry(), &stats.Peaks{}
	reg.Device("dev1", "alice").Inc(stats.DHTTPRequests)
	peaks.Observe(stats.PeakCPUPercent, 42, time.Date(2015, 8, 27, 22, 32, 30, 0, time.UTC))
	if err := (stats.Files{Dir: dir}).Append(reg, peaks, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Stats: reg, Peaks: peaks, StatsDir: dir, Token: "tok"}))
	defer srv.Close()
	run := ctlRunner(t, srv.URL)
	zipPath := filepath.Join(t.TempDir(), "x.zip")
	if out, err := run("stats", "download", "-o", zipPath); err != nil {
		t.Fatalf("ctl stats download: %v (%s)", err, out)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	defer zr.Close()
	got := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		got[f.Name] = string(b)
	}
	if g := got["global-stats.csv"]; !strings.Contains(g, "peak-date-peak-cpu-%") || !strings.Contains(g, "Thu Aug 27 22:32:30 UTC 2015") {
		t.Fatalf("global-stats.csv lacks the peak and its date:\n%s", g)
	}
	if d := got["all-device-stats.csv"]; !strings.Contains(d, ",dev1,alice,") {
		t.Fatalf("all-device-stats.csv lacks the device row:\n%s", d)
	}
}

// STA-08: collection is started, stopped, its interval changed, and
// `reset` zeroes the counters and clears global-stats.csv.
func TestSTA08CtlStatsCollectionAndReset(t *testing.T) {
	dir := t.TempDir()
	reg, peaks := stats.NewRegistry(), &stats.Peaks{}
	reg.IncGlobal(stats.DHTTPRequests)
	coll := stats.NewCollection(0)
	if err := (stats.Files{Dir: dir}).Append(reg, peaks, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Stats: reg, Peaks: peaks, StatsDir: dir, Collection: coll, Token: "tok"}))
	defer srv.Close()
	run := ctlRunner(t, srv.URL)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"stats", "collection"}, "enabled = true\ninterval = 5m0s"},
		{[]string{"stats", "collection", "stop"}, "enabled = false\ninterval = 5m0s"},
		{[]string{"stats", "collection", "start", "--interval", "1m"}, "enabled = true\ninterval = 1m0s"},
		{[]string{"stats", "reset"}, "Statistics reset."},
	}
	for _, s := range steps {
		out, err := run(s.args...)
		if err != nil || out != s.want {
			t.Fatalf("ctl %v: %q, %v; want %q", s.args, out, err, s.want)
		}
	}
	if on, iv := coll.State(); !on || iv != time.Minute {
		t.Fatalf("collection state %v %s", on, iv)
	}
	if v := reg.GlobalValue(stats.DHTTPRequests); v != 0 {
		t.Fatalf("d-http-requests %d after reset", v)
	}
	if _, err := os.Stat(filepath.Join(dir, "global-stats.csv")); !os.IsNotExist(err) {
		t.Fatalf("global-stats.csv still there after reset: %v", err)
	}
	_, err := run("stats", "collection", "--interval", "banana")
	var apiErr *admin.APIError
	if !errors.As(err, &apiErr) || apiErr.Err.Field != "interval" {
		t.Fatalf("bad interval: %v, want an error naming the field interval", err)
	}
}

// STA-12: `ctl utilization` prints the seed's six lines.
func TestSTA12CtlUtilizationPrintsTheSeedLines(t *testing.T) {
	u := stats.Utilization{ConnectedDevices: 3, OpenConnections: 5, CPU: 12.5, SystemMemory: 40, HeapMemory: 60}
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Utilization: func() stats.Utilization { return u }, Token: "tok"}))
	defer srv.Close()
	out, err := ctlRunner(t, srv.URL)("utilization")
	want := "Number of Connected Devices : 3\nNumber of Open Connections : 5\nThread Pool Utilization : 0.0%\nCPU Utilization : 12.5%\nSystem Memory Utilization : 40.0%\nHeap Memory Utilization : 60.0%"
	if err != nil || out != want {
		t.Fatalf("ctl utilization: %v\n%s", err, out)
	}
}

// SVD-01: `ctl diagnose` is Verify All: the four services with the
// seed's columns; `ctl diagnose eas` verifies one.
func TestSVD01CtlDiagnose(t *testing.T) {
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Token: "tok"}))
	defer srv.Close()
	run := ctlRunner(t, srv.URL)
	out, err := run("diagnose")
	if err != nil {
		t.Fatalf("ctl diagnose: %v (%s)", err, out)
	}
	lines := strings.Split(out, "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "Service") || !strings.Contains(lines[2], "Sentry not configured.") {
		t.Fatalf("ctl diagnose:\n%s", out)
	}
	for i, svc := range []string{"EMM", "EAS", "DNS", "NTP"} {
		if !strings.HasPrefix(lines[i+1], svc+" ") || !strings.HasSuffix(lines[i+1], "Verify") {
			t.Fatalf("row %d: %q", i+1, lines[i+1])
		}
	}
	if out, err := run("diagnose", "eas"); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("ctl diagnose eas: %v\n%s", err, out)
	}
}
