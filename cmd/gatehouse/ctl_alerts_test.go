package main

import (
	"strings"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
)

// ALR-04, ALR-06: `ctl alerts` prints the viewer's columns, newest first,
// and --filter is a case-insensitive regular expression.
func TestALR04CtlAlertsViewer(t *testing.T) {
	svc, err := alerts.Open(t.TempDir(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	t0 := time.Date(2024, 4, 25, 10, 49, 39, 0, time.UTC)
	svc.Raise(alerts.Alert{Time: t0, ID: "AS_SYNC", Level: alerts.Error, Device: "ALICEPHONE", User: "alice", Service: "ActiveSync", Description: "HTTP 503 Service Unavailable for Sync"})
	svc.Raise(alerts.Alert{Time: t0.Add(time.Minute), ID: "KERBEROS", Level: alerts.Error, Description: "KDC unreachable"})
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Alerts: svc, Token: "tok"}))
	defer srv.Close()
	ctl := ctlRunner(t, srv.URL)
	run := func(args ...string) (string, error) { return ctl(append([]string{"alerts"}, args...)...) }
	got, err := run()
	want := "Date\tAlertID\tDevice\tUser\tService\tDescription\n" +
		"2024 Apr 25 10:50:39\tKERBEROS\t--\t--\t--\tKDC unreachable\n" +
		"2024 Apr 25 10:49:39\tAS_SYNC\tALICEPHONE\talice\tActiveSync\tHTTP 503 Service Unavailable for Sync"
	if err != nil || got != want {
		t.Fatalf("ctl alerts: %v\n%s\nwant\n%s", err, got, want)
	}
	if got, err := run("--filter", "SERVICE unavail"); err != nil || strings.Count(got, "\n") != 1 || !strings.Contains(got, "AS_SYNC") {
		t.Fatalf("ctl alerts --filter: %v\n%s", err, got)
	}
	if _, err := run("--filter", "("); err == nil {
		t.Fatal("a bad filter was accepted")
	}
}
