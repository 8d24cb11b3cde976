package gateway_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// STA-09, INC-02, LOG-08: the run-time local settings changed through the
// admin API survive a restart, except that statistics collection keeps only
// its interval (whether it runs is the bootstrap's) and the Sentry log is
// back to its defaults.
func TestSTA09LocalSettingsSurviveARestart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	off, iv, on := false, "7m0s", true
	must(w.adm.SetAudit(ctx, true))
	must(w.adm.SetFailOpen(ctx, false))
	must(w.adm.SetStatsCollection(ctx, &off, &iv))
	targets := []audit.SyslogTarget{{Server: "127.0.0.1", Port: 5514, Protocol: "UDP", Facility: "audit", Level: "info", Disabled: true}}
	must(w.adm.SetSyslog(ctx, targets))
	notify := alerts.Config{SendNotifications: true, Emails: []string{"ops@corp.example"}, AlertsPerHour: 5, BatchMinutes: 15,
		Default: alerts.Batch, Overrides: map[string]alerts.Action{"MICS": alerts.Realtime},
		SMTP: alerts.SMTP{From: "sentry@corp.example", Server: "127.0.0.1", Port: 2525, TLS: "smtp"}}
	must(w.adm.SetAlertsNotify(ctx, notify))
	must(w.adm.SetLog(ctx, admin.LogChange{Enable: &on, Direction: "device"}))
	wantNotify, err := w.adm.AlertsNotify(ctx)
	must(nil, err)
	wantSyslog, err := w.adm.Syslog(ctx)
	must(nil, err)

	w.stopGateway()
	w.startGateway(false)

	if a, err := w.adm.Audit(ctx); err != nil || !a.Enabled {
		t.Errorf("audit after restart: %+v, %v; want on", a, err)
	}
	if st, err := w.adm.Status(ctx); err != nil || st.FailOpen {
		t.Errorf("fail-open after restart: %+v, %v; want off", st, err)
	}
	if sc, err := w.adm.StatsCollection(ctx); err != nil || sc.Interval != iv || !sc.Enabled {
		t.Errorf("statistics after restart: %+v, %v; want the saved interval %s, running as the bootstrap says (INC-02)", sc, err, iv)
	}
	if got, err := w.adm.Syslog(ctx); err != nil || !reflect.DeepEqual(targetsOf(got), targetsOf(wantSyslog)) {
		t.Errorf("syslog after restart: %+v, %v; want %+v", got, err, wantSyslog)
	}
	if got, err := w.adm.AlertsNotify(ctx); err != nil || !reflect.DeepEqual(got, wantNotify) {
		t.Errorf("alerts notify after restart: %+v, %v; want %+v", got, err, wantNotify)
	}
	if l, err := w.adm.Log(ctx); err != nil || l.Enabled {
		t.Errorf("Sentry log after restart: %+v, %v; want off (LOG-08)", l, err)
	}
}

func targetsOf(s *admin.SyslogTargets) []audit.SyslogTarget {
	var out []audit.SyslogTarget
	for _, t := range s.Targets {
		out = append(out, t.SyslogTarget)
	}
	return out
}

// A damaged settings file stops the start with an error naming the file
// and the field, and is left as it was for the operator to fix: a gateway
// never starts with half its settings (say, without its audit forwarding).
func TestSTA09DamagedLocalSettingsRefuseTheStart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.adm.SetAudit(ctx, true); err != nil {
		t.Fatal(err)
	}
	w.stopGateway()
	path := filepath.Join(w.dataDir, "local-config.xml")
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the change was not saved: %v", err)
	}
	damaged := strings.Replace(string(saved), "<audit>", "<audti>true</audti><audit>", 1)
	if err := os.WriteFile(path, []byte(damaged), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = gateway.New(w.bootConfig(), slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "local-config.xml") || !strings.Contains(err.Error(), "audti") {
		t.Fatalf("start with a damaged settings file: %v; want an error naming the file and the field", err)
	}
	if now, _ := os.ReadFile(path); string(now) != damaged {
		t.Fatal("the damaged file was changed")
	}
}

// CFG-03: Clear Configuration removes the saved settings, so that the
// restarted gateway has the bootstrap values.
func TestCFG03ClearConfigRemovesTheSavedSettings(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.adm.SetAudit(ctx, true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(w.dataDir, "local-config.xml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the change was not saved: %v", err)
	}
	w.gw.SetRestartable()
	if _, err := w.adm.ClearConfig(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("local-config.xml after Clear Configuration: %v; want it removed", err)
	}
	w.stopGateway()
	w.startGateway(false)
	if a, err := w.adm.Audit(ctx); err != nil || a.Enabled {
		t.Fatalf("audit after the clear: %+v, %v; want the bootstrap's off", a, err)
	}
}

// LOG-09: the init-log setting takes effect at the next start: by default
// init.log records the whole initialisation (level_4_highest); after `no
// debug sentry init-log` and a restart no new file is written; at
// level_1_lowest only errors and the outcome are.
func TestLOG09InitLogTakesEffectAtTheNextStart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := filepath.Join(w.dataDir, "init.log")
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no init.log after the first start: %v", err)
	}
	for _, want := range []string{"initialisation begins", "device cache initialised", "gateway started", "initialisation done"} {
		if !strings.Contains(string(first), want) {
			t.Errorf("init.log lacks %q:\n%s", want, first)
		}
	}
	if _, err := w.adm.SetInitLog(ctx, false, ""); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(first) {
		t.Fatal("the change took effect before a restart")
	}
	w.stopGateway()
	w.startGateway(false)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("init.log after a start with init-log off: %v", err)
	}
	if prev, _ := os.ReadFile(path + ".1"); string(prev) != string(first) {
		t.Fatal("the previous start's init.log was not kept as init.log.1")
	}
	if _, err := w.adm.SetInitLog(ctx, true, "level_1_lowest"); err != nil {
		t.Fatal(err)
	}
	w.stopGateway()
	w.startGateway(false)
	got, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(got), "initialisation done") || strings.Contains(string(got), "gateway started") {
		t.Fatalf("init.log at level_1_lowest: %v\n%s\nwant the outcome without the info lines", err, got)
	}
}

// LOG-10: gc-log acts from the next start: off by default (no gc.log);
// after `sentry gc-log` and a restart each collection adds a line.
func TestLOG10GCLogTakesEffectAtTheNextStart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	path := filepath.Join(w.dataDir, "gc.log")
	runtime.GC()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("gc.log with gc-log never turned on: %v", err)
	}
	if _, err := w.adm.SetGCLog(ctx, true, 2, "8K"); err != nil {
		t.Fatal(err)
	}
	w.stopGateway()
	w.startGateway(false)
	deadline := time.Now().Add(30 * time.Second)
	var data []byte
	for !strings.Contains(string(data), " gc ") && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the cycle's line is written after it
		data, _ = os.ReadFile(path)
	}
	if !strings.Contains(string(data), " gc ") {
		t.Fatalf("no collection in gc.log after the restart with gc-log on: %q", data)
	}
}
