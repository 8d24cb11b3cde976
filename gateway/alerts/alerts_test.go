package alerts_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/smtp"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/onsi/gomega"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func TestALR04ViewerLine(t *testing.T) {
	a := alerts.Alert{Time: time.Date(2024, 4, 25, 10, 49, 39, 0, time.UTC), ID: "MICS", Level: alerts.Warning, Description: "Successful authentication for user miadmin"}
	if got, want := a.Line(), "2024 Apr 25 10:49:39\tMICS\t--\t--\t--\tSuccessful authentication for user miadmin"; got != want {
		t.Fatalf("line %q, want %q", got, want)
	}
	if alerts.CommandID("SendMail") != "AS_SENDMAIL" || alerts.CommandID("") != "AS_NONE" {
		t.Fatalf("command ids: %s %s", alerts.CommandID("SendMail"), alerts.CommandID(""))
	}
}

// ALR-05: after a restart the viewer shows the most recent 1000 alerts.
func TestALR05StoreKeepsLast1000AcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := alerts.Open(dir, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2500 {
		s.Raise(alerts.Alert{Time: t0.Add(time.Duration(i) * time.Second), ID: "AS_SYNC", Level: alerts.Error, Description: "n=" + strconv.Itoa(i)})
	}
	s.Raise(alerts.Alert{ID: "AS_SYNC", Level: 0, Description: "info: not an alert"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = alerts.Open(dir, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _ := s.List("")
	if len(got) != alerts.Kept || got[0].Description != "n=2499" || got[len(got)-1].Description != "n=1500" {
		t.Fatalf("after restart: %d alerts, newest %q, oldest %q; want 1000, n=2499, n=1500", len(got), got[0].Description, got[len(got)-1].Description)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, alerts.FileName)); strings.Count(string(b), "\n") > 2*alerts.Kept {
		t.Fatalf("the file grew to %d lines", strings.Count(string(b), "\n"))
	}
}

// ALR-06: the filter is a regular expression over the alert's text, case ignored.
func TestALR06FilterIsCaseInsensitiveRegex(t *testing.T) {
	s, err := alerts.Open(t.TempDir(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Raise(alerts.Alert{ID: "AS_PING", Level: alerts.Warning, Device: "ALICEPHONE", Description: "HTTP 503 from the ActiveSync server"})
	s.Raise(alerts.Alert{ID: "KERBEROS", Level: alerts.Error, Device: "BOBPHONE", Description: "Kerberos Error: KDC unreachable"})
	for expr, want := range map[string]int{"": 2, "error": 1, "ERROR": 1, "alice|bob": 2, `^\d{4} \w{3}.*\tAS_PING\t`: 1, "nothing": 0} {
		got, err := s.List(expr)
		if err != nil || len(got) != want {
			t.Errorf("filter %q: %d alerts (%v), want %d", expr, len(got), err, want)
		}
	}
	if _, err := s.List("("); err == nil {
		t.Error("a bad regular expression was accepted")
	}
}

func sinkConfig(sink *smtp.Sink) alerts.Config {
	host, port, _ := strings.Cut(sink.Addr(), ":")
	p, _ := strconv.Atoi(port)
	return alerts.Config{
		SendNotifications: true, Emails: []string{"ops@lab.test", "oncall@lab.test"},
		SMTP: alerts.SMTP{From: "gatehouse@lab.test", Server: host, Port: p},
	}
}

func startSink(t *testing.T, cfg smtp.Config) *smtp.Sink {
	sink, err := smtp.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return sink
}

func open(t *testing.T, cfg alerts.Config, now func() time.Time) *alerts.Service {
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := alerts.Open(t.TempDir(), &cfg, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ALR-08: with Alerts Per Hour = 2 only the first two alerts of each clock
// hour are mailed; the count starts again at the top of the hour.
func TestALR08AlertsPerHourResetsAtTopOfHour(t *testing.T) {
	sink := startSink(t, smtp.Config{})
	cfg := sinkConfig(sink)
	cfg.AlertsPerHour, cfg.Default = 2, alerts.Realtime
	clk := &clock{t: time.Date(2026, 5, 1, 9, 10, 0, 0, time.UTC)}
	s := open(t, cfg, clk.now)
	for i := range 5 {
		s.Raise(alerts.Alert{ID: "AS_SYNC", Level: alerts.Error, Description: fmt.Sprintf("first hour %d", i)})
	}
	clk.set(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	for i := range 3 {
		s.Raise(alerts.Alert{ID: "AS_SYNC", Level: alerts.Error, Description: fmt.Sprintf("second hour %d", i)})
	}
	s.Close() // waits for the deliveries
	var got []string
	for _, m := range sink.Messages() {
		_, body, _ := strings.Cut(string(m.Data), "\r\n\r\n")
		got = append(got, strings.TrimSpace(body[strings.LastIndex(strings.TrimSpace(body), "\t")+1:]))
	}
	want := []string{"first hour 0", "first hour 1", "second hour 0", "second hour 1"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("mailed %q, want %q", got, want)
	}
	if d := s.Notifier().Dropped.Load(); d != 4 {
		t.Fatalf("dropped %d, want 4", d)
	}
}

// ALR-09: batch merges alerts into one mail per interval, realtime mails
// at once, discard sends nothing, and an alert ID's override beats the
// Default.
func TestALR09BatchRealtimeDiscardAndOverrides(t *testing.T) {
	g := gomega.NewWithT(t)
	sink := startSink(t, smtp.Config{})
	cfg := sinkConfig(sink)
	cfg.Default = alerts.Batch
	cfg.Overrides = map[string]alerts.Action{"AS_PING": alerts.Realtime, "KERBEROS": alerts.Discard}
	s := open(t, cfg, nil)
	defer s.Close()
	for _, id := range []string{"AS_SYNC", "KERBEROS", "AS_FOLDERSYNC", "AS_PING", "AS_SENDMAIL"} {
		s.Raise(alerts.Alert{ID: id, Level: alerts.Error, Description: "failed " + id})
	}
	g.Eventually(sink.Messages).WithTimeout(20*time.Second).Should(gomega.HaveLen(1), "the realtime alert")
	if m := sink.Messages()[0]; !strings.Contains(string(m.Data), "\tAS_PING\t") || strings.Contains(string(m.Data), "AS_SYNC") {
		t.Fatalf("realtime mail:\n%s", m.Data)
	}
	s.Notifier().Flush() // the Batch Time Interval's end
	g.Eventually(sink.Messages).WithTimeout(20*time.Second).Should(gomega.HaveLen(2), "the batch")
	m := sink.Messages()[1]
	body := string(m.Data)
	for _, id := range []string{"AS_SYNC", "AS_FOLDERSYNC", "AS_SENDMAIL"} {
		if !strings.Contains(body, "\t"+id+"\t") {
			t.Errorf("batch lacks %s:\n%s", id, body)
		}
	}
	if strings.Contains(body, "KERBEROS") || !strings.Contains(body, "Subject: Gatehouse alerts: 3 batched") {
		t.Errorf("batch mail:\n%s", body)
	}
	if strings.Join(m.To, ",") != "ops@lab.test,oncall@lab.test" || m.From != "gatehouse@lab.test" {
		t.Errorf("envelope from %q to %q", m.From, m.To)
	}
}

// ALR-10: with Authentication Required the mail goes through AUTH PLAIN
// with the password from its file.
func TestALR10SMTPAuthentication(t *testing.T) {
	g := gomega.NewWithT(t)
	sink := startSink(t, smtp.Config{User: "gatehouse", Password: "s3cret"})
	cfg := sinkConfig(sink)
	cfg.Default = alerts.Realtime
	pw := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.SMTP.AuthRequired, cfg.SMTP.User, cfg.SMTP.PasswordFile = true, "gatehouse", pw
	s := open(t, cfg, nil)
	defer s.Close()
	s.Raise(alerts.Alert{ID: "AS_SYNC", Level: alerts.Error, Description: "HTTP 503"})
	g.Eventually(sink.Messages).WithTimeout(20 * time.Second).Should(gomega.HaveLen(1))
	if u := sink.Messages()[0].User; u != "gatehouse" {
		t.Fatalf("authenticated as %q", u)
	}
}

// The webhook gets every alert as JSON, whatever the e-mail settings.
func TestAlertWebhook(t *testing.T) {
	got := make(chan alerts.Alert, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a alerts.Alert
		if json.NewDecoder(r.Body).Decode(&a) == nil {
			got <- a
		}
	}))
	defer srv.Close()
	s := open(t, alerts.Config{Webhook: srv.URL}, nil)
	defer s.Close()
	s.Raise(alerts.Alert{ID: "KERBEROS", Level: alerts.Error, Device: "ALICEPHONE", Description: "KDC unreachable"})
	select {
	case a := <-got:
		if a.ID != "KERBEROS" || a.Device != "ALICEPHONE" || a.Level != alerts.Error {
			t.Fatalf("webhook got %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("webhook got nothing")
	}
}

func TestAlertConfigErrorsNameTheField(t *testing.T) {
	for field, cfg := range map[string]alerts.Config{
		"alerts.default":           {Default: "later"},
		"alerts.overrides.AS_PING": {Overrides: map[string]alerts.Action{"AS_PING": "now"}},
		"alerts.emails":            {SendNotifications: true},
		"alerts.smtp.from":         {SendNotifications: true, Emails: []string{"a@b.test"}},
		"alerts.smtp.port":         {SendNotifications: true, Emails: []string{"a@b.test"}, SMTP: alerts.SMTP{From: "g@b.test", Server: "127.0.0.1"}},
		"alerts.smtp.tls":          {SendNotifications: true, Emails: []string{"a@b.test"}, SMTP: alerts.SMTP{From: "g@b.test", Server: "127.0.0.1", Port: 25, TLS: "ssl"}},
		"alerts.webhook":           {Webhook: "ftp://x"},
		"alerts.alerts_per_hour":   {AlertsPerHour: -1},
	} {
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("%s: error %v", field, err)
		}
	}
}
