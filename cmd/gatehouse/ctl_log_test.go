package main

import (
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
)

// LOG-03..07: `ctl log …` changes the Sentry log through the admin API,
// printing `Successful`, and shows it in the seeds' forms.
func TestLOG07CtlLogPrintsTheSeedsOutputs(t *testing.T) {
	c := logctl.New(io.Discard)
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{LogCtl: c, Token: "tok"}))
	defer srv.Close()
	ctl := ctlRunner(t, srv.URL)
	run := func(args ...string) string {
		t.Helper()
		out, err := ctl(append([]string{"log"}, args...)...)
		if err != nil {
			t.Fatalf("ctl log %v: %v (%s)", args, err, out)
		}
		return out
	}
	if got := run(); got != "log-from-to = both\nenable = false\nverbosity = level1" {
		t.Fatalf("ctl log at start: %q", got)
	}
	for _, args := range [][]string{{"enable"}, {"verbosity", "level_3"}, {"filter", "KensPhone", "user-id", "ksmith"}} {
		if got := run(args...); got != "Successful" {
			t.Fatalf("ctl log %v: %q", args, got)
		}
	}
	if got := run(); got != "log-from-to = both\nenable = true\nverbosity = level3" {
		t.Fatalf("ctl log: %q", got)
	}
	if got := strings.Fields(run("filter")); strings.Join(got, " ") != "TAG ENABLED TYPE VALUE KensPhone true user-id ksmith" {
		t.Fatalf("ctl log filter: %q", got)
	}
	for _, args := range [][]string{{"no-filter", "KensPhone"}, {"enable", "device"}, {"disable"}} {
		if got := run(args...); got != "Successful" {
			t.Fatalf("ctl log %v: %q", args, got)
		}
	}
	if s := c.Settings(); s.Enabled || s.Direction != logctl.Device || len(s.Filters) != 0 {
		t.Fatalf("settings: %+v", s)
	}
}

// LOG-01: `ctl log mics [on|off]` switches MICS logging through the
// admin API and prints it as `mics = on|off`.
func TestLOG01CtlLogMICS(t *testing.T) {
	m := logctl.NewMICS()
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{MICS: m, Token: "tok"}))
	defer srv.Close()
	ctl := ctlRunner(t, srv.URL)
	for _, step := range []struct {
		args []string
		want string
		on   bool
	}{
		{[]string{"log", "mics"}, "mics = off", false},
		{[]string{"log", "mics", "on"}, "Successful", true},
		{[]string{"log", "mics"}, "mics = on", true},
		{[]string{"log", "mics", "off"}, "Successful", false},
	} {
		out, err := ctl(step.args...)
		if err != nil || out != step.want || m.Enabled() != step.on {
			t.Fatalf("ctl %v: %q, %v, switch %t; want %q, %t", step.args, out, err, m.Enabled(), step.want, step.on)
		}
	}
	if out, err := ctl("log", "mics", "maybe"); err == nil {
		t.Fatalf("ctl log mics maybe: %q, want an error", out)
	}
}

// LOG-09: `ctl log init-log [level]` and `no-init-log` save the setting
// for the next start and print the seeds' restart reminder.
func TestLOG09CtlInitLog(t *testing.T) {
	file := filepath.Join(t.TempDir(), "init-log.json")
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{InitLogFile: file, Token: "tok"}))
	defer srv.Close()
	ctl := ctlRunner(t, srv.URL)
	const again = "\nRestart the gateway to make this effective."
	for _, step := range []struct {
		args []string
		want string
		set  logctl.InitSetting
	}{
		{[]string{"log", "init-log", "--show"}, "init-log = level4" + again, logctl.DefaultInit()},
		{[]string{"log", "init-log", "level_2"}, "init-log = level2" + again, logctl.InitSetting{Enabled: true, Level: logctl.Level2}},
		{[]string{"log", "no-init-log"}, "init-log = off" + again, logctl.InitSetting{Enabled: false, Level: logctl.Level2}},
		{[]string{"log", "init-log"}, "init-log = level4" + again, logctl.InitSetting{Enabled: true, Level: logctl.Level4}},
	} {
		out, err := ctl(step.args...)
		saved, lerr := logctl.LoadInit(file)
		if err != nil || out != step.want || lerr != nil || saved != step.set {
			t.Fatalf("ctl %v: %q, %v; saved %+v, %v; want %q, %+v", step.args, out, err, saved, lerr, step.want, step.set)
		}
	}
	if out, err := ctl("log", "init-log", "level_9"); err == nil || !strings.Contains(err.Error(), "verbosity") {
		t.Fatalf("ctl log init-log level_9: %q, %v; want an error naming verbosity", out, err)
	}
	if saved, _ := logctl.LoadInit(file); saved != (logctl.InitSetting{Enabled: true, Level: logctl.Level4}) {
		t.Fatalf("a refused change was saved: %+v", saved)
	}
}

// LOG-10: `ctl log gc-log [file-count] [file-size]`, `no-gc-log` and
// `--show` save and print the setting for the next start; the seeds'
// bounds are refused by field and leave the saved setting alone.
func TestLOG10CtlGCLog(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gc-log.json")
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{GCLogFile: file, Token: "tok"}))
	defer srv.Close()
	ctl := ctlRunner(t, srv.URL)
	const again = "\nRestart the gateway to make this effective."
	for _, step := range []struct {
		args []string
		want string
		set  logctl.GCSetting
	}{
		{[]string{"log", "gc-log", "--show"}, "gc-log = off" + again, logctl.DefaultGC()},
		{[]string{"log", "gc-log"}, "gc-log = 5 files of 20M" + again, logctl.GCSetting{Enabled: true, FileCount: 5, FileSize: 20 << 20}},
		{[]string{"log", "gc-log", "10", "8K"}, "gc-log = 10 files of 8K" + again, logctl.GCSetting{Enabled: true, FileCount: 10, FileSize: 8 << 10}},
		{[]string{"log", "no-gc-log"}, "gc-log = off" + again, logctl.GCSetting{Enabled: false, FileCount: 10, FileSize: 8 << 10}},
	} {
		out, err := ctl(step.args...)
		saved, lerr := logctl.LoadGC(file)
		if err != nil || out != step.want || lerr != nil || saved != step.set {
			t.Fatalf("ctl %v: %q, %v; saved %+v, %v; want %q, %+v", step.args, out, err, saved, lerr, step.want, step.set)
		}
	}
	for _, bad := range []struct {
		args  []string
		field string
	}{
		{[]string{"log", "gc-log", "101"}, "file_count"},
		{[]string{"log", "gc-log", "5", "301M"}, "file_size"},
		{[]string{"log", "gc-log", "5", "2G"}, "file_size"},
		{[]string{"log", "gc-log", "many"}, "file-count"},
	} {
		if out, err := ctl(bad.args...); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("ctl %v: %q, %v; want an error naming %s", bad.args, out, err, bad.field)
		}
	}
	if saved, _ := logctl.LoadGC(file); saved.Enabled || saved.FileCount != 10 {
		t.Fatalf("a refused change was saved: %+v", saved)
	}
}
