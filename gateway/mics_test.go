package gateway_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
)

// micsLog returns the MICS log's lines.
func (w *world) micsLog() []string {
	w.t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dataDir, gateway.MICSLogFile))
	if err != nil {
		w.t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

// LOG-01: the MICS switch, through the admin API, logs the gateway's
// calls to the UEM (request and status lines, never the credential) and
// its connectivity changes; off at start and after a restart; a lost UEM
// raises the MICS alert (ALR-04).
func TestLOG01MICSLogsTheUEMLinkAndALR04RaisesMICS(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.adm.Verify(ctx); err != nil { // a UEM call while MICS logging is off
		t.Fatal(err)
	}
	if got := w.micsLog(); len(got) != 0 {
		t.Fatalf("MICS logging is on by default: %q", got)
	}
	if st, err := w.adm.SetMICSLog(ctx, true); err != nil || !st.Enabled {
		t.Fatalf("switch on: %+v, %v", st, err)
	}
	if _, err := w.adm.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	got := w.micsLog()
	if linesWith(got, "mics uem > GET /api/v1/") == 0 || linesWith(got, "mics uem < GET /api/v1/", ": 200 OK (") == 0 {
		t.Fatalf("the UEM call is not logged:\n%s", strings.Join(got, "\n"))
	}
	noSecrets(t, got, gwToken, "Bearer")

	w.setFaults(uem.Faults{Down: true})
	if _, err := w.adm.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	got = w.micsLog()
	if linesWith(got, "mics uem ! GET /api/v1/") == 0 || linesWith(got, "uem connectivity: not connected (detected by ") == 0 {
		t.Fatalf("the failed call and the lost connectivity are not logged:\n%s", strings.Join(got, "\n"))
	}
	list, err := viewAlerts(w, "^[^\t]+\tMICS\t") // at log level 3 (ALR-02)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != alerts.IDMICS || list[0].Level != alerts.Error || !strings.Contains(list[0].Description, "UEM link failed") {
		t.Fatalf("MICS alerts: %+v", list)
	}
	w.setFaults(uem.Faults{})
	if _, err := w.adm.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.micsLog(); linesWith(got, "uem connectivity: connected (detected by ") == 0 {
		t.Fatalf("the return is not logged:\n%s", strings.Join(got, "\n"))
	}

	if st, err := w.adm.SetMICSLog(ctx, false); err != nil || st.Enabled {
		t.Fatalf("switch off: %+v, %v", st, err)
	}
	before := len(w.micsLog())
	if _, err := w.adm.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if after := len(w.micsLog()); after != before {
		t.Fatalf("%d lines logged with MICS logging off", after-before)
	}
	// LOG-08 as for the Sentry log: on again, then a restart: off.
	if _, err := w.adm.SetMICSLog(ctx, true); err != nil {
		t.Fatal(err)
	}
	w.stopGateway()
	w.startGateway(false)
	if st, err := w.adm.MICSLog(ctx); err != nil || st.Enabled {
		t.Fatalf("after a restart: %+v, %v; want off", st, err)
	}
}
