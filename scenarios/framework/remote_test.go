package framework

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The remote world is built from running fakes alone (here a lab's, on
// loopback, standing in for containers): its users, devices and fake
// clients see what the in-process adapters see.
func TestRemoteWorldDrivesRunningFakes(t *testing.T) {
	ctx := context.Background()
	l, err := lab.Start(ctx, lab.Config{Users: 3, MessagesPerUser: 2, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	e := l.Endpoints()
	saved := TestContext
	t.Cleanup(func() { TestContext = saved })
	TestContext.GatewayURL, TestContext.GatewayID, TestContext.ReadyTimeout = e.Gateway.DeviceURL, e.UEM.GatewayID, 30*time.Second
	TestContext.UEMAdminURL, TestContext.UEMAdminToken = e.UEM.AdminURL, e.UEM.AdminToken

	if _, _, _, err := startRemoteWorld(); err == nil {
		t.Fatal("remote world without the Exchange admin URL: no error")
	}
	TestContext.ExchangeAdminURL, TestContext.ExchangeAdminToken = e.Exchange.AdminURL, e.Exchange.AdminToken
	TestContext.GatewayID = "no-such-gateway"
	if _, _, _, err := startRemoteWorld(); err == nil {
		t.Fatal("remote world with an unknown gateway entry: no error")
	}
	TestContext.GatewayID = e.UEM.GatewayID

	w, u, x, err := startRemoteWorld()
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Users(); len(got) != 3 || got[0].Name != "alice" || got[0].Password != "alice-pw" {
		t.Fatalf("users: %+v", got)
	}
	d, err := w.NewDevice(device.Config{ID: "REMOTE0001", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ctx); err != nil {
		t.Fatalf("a device of the remote world through the gateway: %v", err)
	}

	local := InProcessUEM(l.UEM)
	remote, _ := u.FindAssociation(ctx, d.ID(), "alice")
	want, err := local.FindAssociation(ctx, d.ID(), "alice")
	if err != nil || remote.ID != want.ID || remote.SyncStatus != "Allowed" {
		t.Fatalf("remote association %+v, in-process %+v (%v)", remote, want, err)
	}
	if _, err := u.Act(ctx, remote.ID, uem.Action{Action: uem.ActWipe}); err != nil {
		t.Fatal(err)
	}
	_, rerr := u.Act(ctx, remote.ID, uem.Action{Action: uem.ActAllow})
	_, lerr := local.Act(ctx, remote.ID, uem.Action{Action: uem.ActAllow})
	if !uemapi.IsCode(rerr, uemapi.CodeActionNotAllowed) || !uemapi.IsCode(lerr, uemapi.CodeActionNotAllowed) {
		t.Fatalf("allow after wipe: remote %v, in-process %v; want action_not_allowed from both", rerr, lerr)
	}
	ps, err := x.Partnerships(ctx)
	lps, _ := InProcessExchange(l.Exchange).Partnerships(ctx)
	if err != nil || len(ps) != 1 || len(lps) != 1 || ps[0].DeviceID != lps[0].DeviceID {
		t.Fatalf("partnerships: remote %+v (%v), in-process %+v", ps, err, lps)
	}

	if err := u.SetFaults(ctx, uem.Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	if f := l.UEM.Faults(); !f.Down {
		t.Fatalf("the remote Down fault did not reach the UEM: %+v", f)
	}
	if err := w.RestartGateway(ctx); !errors.Is(err, lab.ErrNotSupported) {
		t.Fatalf("restart without a command: %v, want lab.ErrNotSupported", err)
	}
	if err := w.KillGateway(); !errors.Is(err, lab.ErrNotSupported) {
		t.Fatalf("kill without a command: %v, want lab.ErrNotSupported", err)
	}

	// The crash hooks run their commands; start waits until the gateway
	// answers (here it never went away), and a failing command is an error.
	rw := w.(*remoteWorld)
	marks := t.TempDir()
	rw.killCmd, rw.startCmd = "touch "+marks+"/killed", "touch "+marks+"/started"
	if err := w.KillGateway(); err != nil {
		t.Fatal(err)
	}
	if err := w.StartGateway(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"killed", "started"} {
		if _, err := os.Stat(filepath.Join(marks, m)); err != nil {
			t.Errorf("the %s command did not run: %v", m, err)
		}
	}
	rw.killCmd = "exit 3"
	if err := w.KillGateway(); err == nil || errors.Is(err, lab.ErrNotSupported) {
		t.Fatalf("a failing kill command: %v", err)
	}
}
