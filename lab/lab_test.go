package lab_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

func startLab(t *testing.T, cfg lab.Config) *lab.Lab {
	t.Helper()
	cfg.Dir = t.TempDir()
	l, err := lab.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return l
}

// A device reaches Exchange through the gateway; the UEM records it; the
// gateway survives a restart (and, as a subprocess, a kill -9).
func checkWorld(t *testing.T, l *lab.Lab) {
	ctx := context.Background()
	d, err := l.NewDevice(device.Config{ID: "LABPHONE1", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ctx); err != nil {
		t.Fatalf("connect: %v %+v", err, d.Last())
	}
	if len(d.Messages()) != 6 {
		t.Fatalf("synced %d messages", len(d.Messages()))
	}
	if a, err := l.UEM.FindAssociation("LABPHONE1", "alice"); err != nil || a.SyncStatus != "Allowed" {
		t.Fatalf("UEM association %+v %v", a, err)
	}
	if err := l.RestartGateway(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Sync(ctx); err != nil {
		t.Fatalf("sync after restart: %v", err)
	}
	if rows, err := l.GatewayAdmin().ByDevice(ctx, "LABPHONE1"); err != nil || len(rows) != 1 {
		t.Fatalf("gateway cache after restart: %+v %v", rows, err)
	}
	e := l.Endpoints()
	if e.UEM.GatewayToken == "" || e.Gateway.AdminToken == "" || len(e.Users) != 3 || e.Users[0].Password == "" {
		t.Fatalf("endpoints %+v", e)
	}
}

func TestInProcess(t *testing.T) {
	l := startLab(t, lab.Config{})
	checkWorld(t, l)
	if err := l.KillGateway(); !errors.Is(err, lab.ErrNotSupported) {
		t.Fatalf("kill of an in-process gateway: %v", err)
	}
}

func TestSubprocessKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gatehouse binary")
	}
	l := startLab(t, lab.Config{Mode: lab.Subprocess})
	checkWorld(t, l)
	ctx := context.Background()
	if err := l.KillGateway(); err != nil {
		t.Fatal(err)
	}
	d, _ := l.NewDevice(device.Config{ID: "LABPHONE2", User: "bob"})
	if err := d.Provision(ctx); err == nil {
		t.Fatal("a killed gateway answered")
	}
	if err := l.StartGateway(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ctx); err != nil {
		t.Fatalf("connect after kill and start: %v", err)
	}
}

// A Kerberos lab: a device with an identity certificate from the UEM's CA
// syncs through Kerberos constrained delegation; Exchange sees the
// certificate's user in a Negotiate ticket, never a password.
func TestKerberosLab(t *testing.T) {
	l := startLab(t, lab.Config{Kerberos: true})
	ctx := context.Background()
	cert, ic, err := l.IssueCertificate("alice", uem.CertRequest{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.NewCertDevice(device.Config{ID: "KRBPHONE1", User: "alice"}, &cert)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ctx); err != nil {
		t.Fatalf("connect: %v %+v", err, d.Last())
	}
	seen := l.KerberosClients()
	if len(seen) == 0 || seen[0] != "alice@"+l.Realm() || ic.UPN != "alice@corp.example" {
		t.Fatalf("Exchange saw Kerberos clients %v (certificate UPN %s)", seen, ic.UPN)
	}
	if st := l.KDC.Stats(); st.S4U2Proxy == 0 {
		t.Fatalf("KDC stats %+v", st)
	}
	// Without a certificate the gateway refuses the device.
	bare, _ := l.NewCertDevice(device.Config{ID: "KRBPHONE2", User: "bob"}, nil)
	if err := bare.Provision(ctx); err == nil {
		t.Fatal("a device without a certificate was let through")
	}
}
