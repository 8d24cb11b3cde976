package gateway

import (
	"io"
	"log/slog"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// STA-13: a resource over the seeds' threshold raises a warning alert in
// the viewer (not only a log line); one under it raises none.
func TestSTA13UtilizationOverThresholdRaisesAnAlert(t *testing.T) {
	al, err := alerts.Open(t.TempDir(), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), alerts: al}
	s.utilizationAlerts(stats.Utilization{CPU: 95.5, SystemMemory: 40})
	list, err := al.List("")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != "STA13-CPU" || list[0].Level != alerts.Warning || list[0].Description != "CPU Utilization 95.5 % is above 70 %" {
		t.Fatalf("alerts %+v, want one STA13-CPU warning", list)
	}
}
