package main

import (
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/smtp"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
)

// settingsGW is an admin API over an audit log and an alerts service.
func settingsGW(t *testing.T) (*audit.Logger, *alerts.Service, func(...string) (string, error)) {
	t.Helper()
	l := audit.New(io.Discard, "gw", nil)
	t.Cleanup(func() {
		l.Close()
		for _, s := range l.SetSyslogs(nil) {
			s.Close()
		}
	})
	al, err := alerts.Open(t.TempDir(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Audit: l, Alerts: al, Token: "tok"}))
	t.Cleanup(srv.Close)
	return l, al, ctlRunner(t, srv.URL)
}

// AUD-12 at run time: `ctl syslog add` starts forwarding to a new target
// (a UDP server on loopback gets the next entry), a bad target is refused
// naming the field, `ctl syslog remove` stops it.
func TestAUD12CtlSyslogTargetsAtRunTime(t *testing.T) {
	l, _, ctl := settingsGW(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	if out, err := ctl("syslog", "add", "127.0.0.1", port, "udp", "audit", "info"); err != nil || !strings.Contains(out, "127.0.0.1\t"+port+"\tUDP\taudit\tinfo\tenabled") {
		t.Fatalf("ctl syslog add: %v\n%s", err, out)
	}
	l.Begin(audit.Request{User: "alice", DeviceID: "D", ServiceType: audit.ServiceActiveSync})
	buf := make([]byte, 4096)
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil || !strings.Contains(string(buf[:n]), `SENTRY_AUDIT: INFO {"usecaseId"`) {
		t.Fatalf("the new target got %q, %v", buf[:n], err)
	}
	for args, field := range map[string]string{
		"127.0.0.1 " + port + " SCTP audit info": "targets[0].protocol:",
		"127.0.0.1 70000 UDP audit info":         "targets[1].port:", // the first target (other port) stays
		"127.0.0.1 UDP audit loud":               "targets[0].level:",
	} {
		if out, err := ctl(append([]string{"syslog", "add"}, strings.Fields(args)...)...); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("ctl syslog add %s: %v (%s), want an error naming %s", args, err, out, field)
		}
	}
	if len(l.Syslogs()) != 1 {
		t.Fatalf("a refused target changed the list: %d targets", len(l.Syslogs()))
	}
	if out, err := ctl("syslog", "remove", "127.0.0.1"); err != nil || strings.Contains(out, "127.0.0.1") || len(l.Syslogs()) != 0 {
		t.Fatalf("ctl syslog remove: %v\n%s (%d targets)", err, out, len(l.Syslogs()))
	}
}

// ALR-07..10 at run time: `ctl alerts notify` turns e-mail on with its
// recipients, Alerts Per Hour, default and override, and SMTP server; the
// next alert is mailed to the sink. A bad value is refused by field name.
func TestALR07CtlAlertsNotifyAtRunTime(t *testing.T) {
	_, al, ctl := settingsGW(t)
	sink, err := smtp.Start(smtp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	out, err := ctl("alerts", "notify", "--send", "--email", "ops@corp.example", "--smtp-server", sink.Addr(), "--smtp-from", "gw@corp.example",
		"--per-hour", "20", "--default", "batch", "--override", "AS_SYNC=realtime")
	if err != nil {
		t.Fatalf("ctl alerts notify: %v\n%s", err, out)
	}
	for _, want := range []string{"send notifications = true", "emails = ops@corp.example", "alerts per hour = 20", "default = batch", "override AS_SYNC = realtime"} {
		if !strings.Contains(out, want) {
			t.Errorf("ctl alerts notify output lacks %q:\n%s", want, out)
		}
	}
	al.Raise(alerts.Alert{ID: "AS_SYNC", Level: alerts.Error, Description: "HTTP 503 from the ActiveSync server"})
	gomega.NewWithT(t).Eventually(sink.Messages).WithTimeout(10 * time.Second).Should(gomega.HaveLen(1))
	if m := sink.Messages()[0]; m.From != "gw@corp.example" || len(m.To) != 1 || m.To[0] != "ops@corp.example" {
		t.Fatalf("mail %s -> %v", m.From, m.To)
	}
	for flag, field := range map[string]string{"--smtp-tls=bogus": "smtp.tls:", "--email=not-an-address": "emails[0]:", "--default=loud": "default:", "--per-hour=-1": "alerts_per_hour:"} {
		if out, err := ctl("alerts", "notify", flag); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("ctl alerts notify %s: %v (%s), want an error naming %s", flag, err, out, field)
		}
	}
	if c := al.Config(); c.SMTP.TLS != "smtp" || c.Default != alerts.Batch {
		t.Fatalf("a refused change was applied: %+v", c)
	}
}

// CFG-01: the export carries the syslog targets and the notification
// settings, an import puts them in force on another gateway, and a bad
// value in either is refused by field name.
func TestCFG01ExportImportCarriesSyslogAndAlerts(t *testing.T) {
	_, _, src := settingsGW(t)
	if out, err := src("syslog", "add", "127.0.0.1", "5514", "TCP", "audit", "info"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := src("alerts", "notify", "--send", "--email", "ops@corp.example", "--smtp-server", "127.0.0.1:2525", "--smtp-from", "gw@corp.example",
		"--override", "AS_PING=discard"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	file := filepath.Join(t.TempDir(), "sentry.xml")
	if out, err := src("config", "export", "-o", file); err != nil {
		t.Fatalf("export: %v (%s)", err, out)
	}
	data, _ := os.ReadFile(file)
	for _, want := range []string{"<syslog>", "<protocol>TCP</protocol>", "<alerts-notify>", "<email>ops@corp.example</email>", "<alert-id>AS_PING</alert-id>", "<server>127.0.0.1</server>"} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("export lacks %s:\n%s", want, data)
		}
	}
	dstAudit, dstAlerts, dst := settingsGW(t)
	if out, err := dst("config", "import", file); err != nil {
		t.Fatalf("import: %v (%s)", err, out)
	}
	if ts := dstAudit.Syslogs(); len(ts) != 1 || ts[0].Target().Port != 5514 || ts[0].Target().Protocol != "TCP" {
		t.Fatalf("imported syslog targets %v", ts)
	}
	if c := dstAlerts.Config(); !c.SendNotifications || c.SMTP.Port != 2525 || c.Overrides["AS_PING"] != alerts.Discard {
		t.Fatalf("imported notifications %+v", c)
	}
	for from, field := range map[string]string{
		"<protocol>TCP</protocol>": "syslog/targets[0].protocol:", "<default>discard</default>": "alerts-notify/default:",
		"<user></user>": "alerts-notify/smtp/bcc:",
	} {
		bad := strings.Replace(string(data), from, map[string]string{"<protocol>TCP</protocol>": "<protocol>SCTP</protocol>",
			"<default>discard</default>": "<default>often</default>", "<user></user>": "<user></user><bcc>x</bcc>"}[from], 1)
		p := filepath.Join(t.TempDir(), "bad.xml")
		os.WriteFile(p, []byte(bad), 0o600)
		if _, err := dst("config", "import", p); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("import with %s: %v, want an error naming %s", from, err, field)
		}
	}
}
