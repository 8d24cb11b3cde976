package upstream

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestASC25_StatusShowsEveryServiceAndServer(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", true)
	clk := newClock()
	r := newRouter(t, asConfig(service("default", a), service("eas2.example.com", b)), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now}, b)
	mustDo(t, r, easRequest("gw", "Sync", ""))
	st := r.Status()
	if len(st) != 2 || st[0].Name != "default" || st[1].Name != "eas2.example.com" {
		t.Fatalf("services = %+v", st)
	}
	if st[0].Scheduling != uemapi.SchedulePriority || !st[0].HealthCheck {
		t.Errorf("default service = %+v", st[0])
	}
	sa := st[0].Servers[0]
	if sa.Address != a.addr() || sa.Declared() != "Live" || !sa.LastSuccess.Equal(clk.Now()) || !sa.LastFailure.IsZero() {
		t.Errorf("a = %+v", sa)
	}
	if sb := st[1].Servers[0]; !sb.TLS || !sb.LastSuccess.IsZero() {
		t.Errorf("b = %+v", sb)
	}
}

func TestSVD01_VerifyEASReportsEachServer(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	clk := newClock()
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now})
	d := r.VerifyEAS(context.Background())
	want := "ActiveSync server " + a.addr() + " is reachable. ActiveSync server " + b.addr() + " is reachable."
	if d.Service != "EAS" || d.Status != DiagnosisSuccess || d.Message != want || !d.Date.Equal(clk.Now()) {
		t.Fatalf("diagnosis = %+v", d)
	}
	b.kill()
	d = r.VerifyEAS(context.Background())
	if d.Status != DiagnosisFailure || !strings.Contains(d.Message, b.addr()+" is not reachable.") {
		t.Fatalf("diagnosis = %+v", d)
	}
	if !serverStatus(t, r, "default", b.addr()).Reachable || serverStatus(t, r, "default", b.addr()).FailureCount != 0 {
		t.Fatal("Verify changed the server's health")
	}
}

func TestSVD02_VerifyEASWithoutActiveSyncIsNotPerformed(t *testing.T) {
	a := newExchange(t, "a", false)
	cfg := asConfig(service("default", a))
	cfg.Enabled = false
	r := newRouter(t, cfg, defaultMgmt(), defaultTimeouts(), Options{})
	d := r.VerifyEAS(context.Background())
	if d.Status != DiagnosisNotPerformed || d.Message != "Sentry not configured." {
		t.Fatalf("diagnosis = %+v", d)
	}
}
