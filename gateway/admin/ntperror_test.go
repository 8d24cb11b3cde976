package admin

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
)

// ALR-04: a failed NTP diagnosis raises the seeds' NTPERROR alert.
func TestALR04NTPDiagnosisFailureRaisesNTPERROR(t *testing.T) {
	al, err := alerts.Open(t.TempDir(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	a := &api{d: Deps{Now: time.Now, NTPServers: []string{closedUDP(t)}, Alerts: al}}
	if row := a.diagnose(context.Background(), "NTP"); row.Status != "Failure" {
		t.Fatalf("NTP row %+v, want Failure", row)
	}
	list, _ := al.List("")
	if len(list) != 1 || list[0].ID != alerts.IDNTPError || list[0].Level != alerts.Error || list[0].Service != "NTP" {
		t.Fatalf("alerts %+v, want one NTPERROR", list)
	}
}
