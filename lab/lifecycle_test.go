package lab_test

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// blockedStatus is what a blocked device is told (DEF-08).
const blockedStatus = int(eas.StatusDeviceIsBlockedForThisUser)

// syncStatus runs a Sync and returns the global status the device got.
func syncStatus(ctx context.Context, d *device.Device) int {
	_, _ = d.Sync(ctx)
	return d.Last().Status
}

// The lab shuts down a gateway whose start failed. That gateway never
// loaded its device cache, so the persistent list stays as it was: after
// a start with the device port taken, a restart with the UEM down still
// keeps a blocked device out (DC-03), and the lab can start again.
func TestInProcessFailedStartKeepsTheBlockedDevice(t *testing.T) {
	l := startLab(t, lab.Config{})
	ctx := context.Background()
	d, err := l.NewDevice(device.Config{ID: "LABBLOCKED", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ctx); err != nil {
		t.Fatalf("connect: %v %+v", err, d.Last())
	}
	a, err := l.UEM.FindAssociation("LABBLOCKED", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.UEM.Act(a.ID, uem.Action{Action: uem.ActBlock, Note: "lost"}); err != nil {
		t.Fatal(err)
	}
	blocked := false
	for i := 0; i < 250 && !blocked; i++ { // the notification arrives within moments
		if blocked = syncStatus(ctx, d) == blockedStatus; !blocked {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !blocked {
		t.Fatalf("the block never reached the gateway: %+v", d.Last())
	}
	if err := l.StopGateway(ctx); err != nil {
		t.Fatal(err)
	}

	u, _ := url.Parse(l.DeviceURL())
	taken, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.StartGateway(ctx); err == nil {
		t.Fatal("the gateway started on a taken port")
	}
	taken.Close()

	if err := l.SetUEMDown(true); err != nil {
		t.Fatal(err)
	}
	if err := l.StartGateway(ctx); err != nil {
		t.Fatal(err)
	}
	if st := syncStatus(ctx, d); st != blockedStatus {
		t.Fatalf("after a failed start and a restart with the UEM down the blocked device got status %d (%+v)", st, d.Last())
	}
	if err := l.SetUEMDown(false); err != nil {
		t.Fatal(err)
	}
}
