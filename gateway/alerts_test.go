package gateway_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/smtp"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/onsi/gomega"
)

// alertWorld is a world whose gateway mails its alerts to a fake SMTP sink.
func alertWorld(t *testing.T, tune func(*alerts.Config)) (*world, *smtp.Sink) {
	sink, err := smtp.Start(smtp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	host, port, _ := strings.Cut(sink.Addr(), ":")
	p, _ := strconv.Atoi(port)
	cfg := alerts.Config{SendNotifications: true, Emails: []string{"ops@lab.test"}, Default: alerts.Realtime,
		SMTP: alerts.SMTP{From: "gatehouse@lab.test", Server: host, Port: p}}
	if tune != nil {
		tune(&cfg)
	}
	w := newWorld(t, func(w *world) { w.gwBoot = func(c *gateway.Config) { c.Alerts = &cfg } })
	return w, sink
}

// mailed returns the alert lines of the messages the sink got.
func mailed(sink *smtp.Sink) []string {
	var lines []string
	for _, m := range sink.Messages() {
		_, body, _ := strings.Cut(string(m.Data), "\r\n\r\n")
		for l := range strings.SplitSeq(strings.TrimSpace(body), "\r\n") {
			lines = append(lines, l)
		}
	}
	return lines
}

// ALR-01, ALR-03: the fake Exchange answering 503 raises an error alert
// per request, its ID the command's; the viewer (admin API) shows them
// with device, user and service; realtime notification mails each at once
// (ALR-09) through SMTP to the sink (ALR-10). A blocked 14.1 device's
// Status 129 is an ActiveSync status alert.
func TestALR01ExchangeErrorsRaiseAlertsMailedToTheSink(t *testing.T) {
	g := gomega.NewWithT(t)
	w, sink := alertWorld(t, nil)
	w.provision("ALICEPHONE", "alice")
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK {
		t.Fatalf("FolderSync: HTTP %d", code)
	}
	if err := w.exch.SetFaults(exchange.Faults{ErrorRate: 1, ErrorStatus: http.StatusServiceUnavailable}); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []eas.Command{eas.CmdSync, eas.CmdPing, eas.CmdFolderSync} {
		if code, _ := w.device("ALICEPHONE", "alice", cmd); code != http.StatusServiceUnavailable {
			t.Fatalf("%s with Exchange answering 503: HTTP %d", cmd, code)
		}
	}
	if err := w.exch.SetFaults(exchange.Faults{}); err != nil {
		t.Fatal(err)
	}
	w.blockDevice("BOBPHONE", "bob")

	list, err := viewAlerts(w, "")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]alerts.Alert{}
	for _, a := range list {
		if a.Device == "ALICEPHONE" {
			ids[a.ID] = a
		}
	}
	for _, id := range []string{"AS_SYNC", "AS_PING", "AS_FOLDERSYNC"} {
		a, ok := ids[id]
		if !ok || a.Level != alerts.Error || a.Device != "ALICEPHONE" || a.User != "alice" || a.Service != "ActiveSync" ||
			!strings.Contains(a.Description, "HTTP 503") || !strings.Contains(a.Description, "from the ActiveSync server") {
			t.Errorf("%s: %+v (present %v)", id, a, ok)
		}
	}
	var blocked bool
	for _, a := range list {
		blocked = blocked || (a.Device == "BOBPHONE" && strings.Contains(a.Description, "Status 129"))
	}
	if !blocked {
		t.Errorf("no Status 129 alert for the blocked device in %+v", list)
	}
	// The successful FolderSync, the 449/401 of provisioning, raised none.
	if n := len(list); n < 4 {
		t.Errorf("%d alerts", n)
	}
	g.Eventually(func() []string { return mailed(sink) }).WithTimeout(20*time.Second).Should(gomega.ContainElements(
		gomega.MatchRegexp(`^\d{4} \w{3} \d\d \d\d:\d\d:\d\d\tAS_SYNC\tALICEPHONE\talice\tActiveSync\tHTTP 503`),
		gomega.MatchRegexp(`\tAS_PING\tALICEPHONE\t`),
		gomega.MatchRegexp(`\tAS_FOLDERSYNC\tALICEPHONE\t`),
		gomega.MatchRegexp(`\tBOBPHONE\tbob\tActiveSync\tActiveSync Status 129`),
	), "alerts mailed to the sink")
}

// ALR-05, ALR-06 through the gateway: the viewer's regex filter ignores
// case, and a restarted gateway shows the alerts raised before it.
func TestALR05AlertsSurviveAGatewayRestart(t *testing.T) {
	w, _ := alertWorld(t, func(c *alerts.Config) { c.SendNotifications, c.Default = false, alerts.Discard })
	w.provision("ALICEPHONE", "alice")
	if err := w.exch.SetFaults(exchange.Faults{ErrorRate: 1, ErrorStatus: http.StatusInternalServerError}); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdSync); code != http.StatusInternalServerError {
		t.Fatalf("Sync: HTTP %d", code)
	}
	w.stopGateway()
	w.startGateway(false)
	// ALR-04: each start raised a RESTART (two), plus the AS_SYNC.
	for filter, want := range map[string]int{"": 3, "as_sync.*internal SERVER": 1, "as_ping": 0, "\trestart\t": 2} {
		list, err := viewAlerts(w, filter)
		if err != nil || len(list) != want {
			t.Errorf("after restart, filter %q: %d alerts (%v), want %d", filter, len(list), err, want)
		}
	}
	if _, err := w.adm.Alerts(context.Background(), "("); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("a bad filter: %v, want a 400", err)
	}
}

// ALR-01: a Kerberos delegation failure raises one KERBEROS error alert
// (not a second one for the 502 it answers).
func TestALR01KerberosFailureRaisesAKerberosAlert(t *testing.T) {
	k := startCorpKDC(t)
	w, _ := kcdWorld(t, k, "http/MAIL.corp.example") // an SPN the KDC will not delegate to
	if code, _ := w.post("ALICEPHONE", "alice", eas.CmdProvision, nil); code != http.StatusBadGateway {
		t.Fatalf("Provision: HTTP %d, want 502", code)
	}
	list, err := viewAlerts(w, "kerberos") // not the RESTART of the start
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != alerts.IDKerberos || list[0].Level != alerts.Error || list[0].Device != "ALICEPHONE" ||
		!strings.Contains(list[0].Description, "Kerberos authentication to the ActiveSync server failed") {
		t.Fatalf("alerts: %+v", list)
	}
}

// viewAlerts sets the Sentry log to level 3, where the viewer shows
// alerts (ALR-02), and lists them.
func viewAlerts(w *world, filter string) ([]alerts.Alert, error) {
	v := "level_3"
	if _, err := w.adm.SetLog(context.Background(), admin.LogChange{Verbosity: &v}); err != nil {
		return nil, err
	}
	return w.adm.Alerts(context.Background(), filter)
}

// ALR-02: the viewer shows alerts only from Sentry log level 3: at the
// default level 1 and at level 2 it shows none, although the alerts are
// kept; at level 3 they appear, the RESTART of the start (ALR-04) first.
func TestALR02ViewerShowsAlertsFromLogLevel3(t *testing.T) {
	w, _ := alertWorld(t, func(c *alerts.Config) { c.SendNotifications, c.Default = false, alerts.Discard })
	w.provision("ALICEPHONE", "alice")
	if err := w.exch.SetFaults(exchange.Faults{ErrorRate: 1, ErrorStatus: http.StatusServiceUnavailable}); err != nil {
		t.Fatal(err)
	}
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdSync); code != http.StatusServiceUnavailable {
		t.Fatalf("Sync: HTTP %d", code)
	}
	ctx := context.Background()
	for _, level := range []string{"", "level_2"} {
		if level != "" {
			if _, err := w.adm.SetLog(ctx, admin.LogChange{Verbosity: &level}); err != nil {
				t.Fatal(err)
			}
		}
		if list, err := w.adm.Alerts(ctx, ""); err != nil || len(list) != 0 {
			t.Fatalf("log level %q: %d alerts (%v), want none shown", level, len(list), err)
		}
	}
	list, err := viewAlerts(w, "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	if len(list) != 2 || list[0].ID != "AS_SYNC" || list[1].ID != alerts.IDRestart || list[1].Level != alerts.Warning {
		t.Fatalf("at level 3: %v, want AS_SYNC then the start's RESTART", ids)
	}
}
