package dashboard

import (
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// A tunnel record in the gateway's cache is shown as that device's app
// tunnel, beside the UEM's state for it, and never as an ActiveSync
// device row of its own.
func TestDashboardTunnelRowsJoinUEMAndCache(t *testing.T) {
	entries := []admin.Entry{
		{User: "alice", State: "A", Application: "ActiveSync/DEV1", DeviceID: "DEV1", Version: "16.1"},
		{User: "alice", State: "A", Validated: "Y", Connections: 2, Application: "com.example.intranet", DeviceID: "demo-alice-ipad", Version: "4"},
	}
	as, tun := splitEntries(entries)
	if len(as) != 1 || as[0].DeviceID != "DEV1" || len(tun) != 1 {
		t.Fatalf("split: ActiveSync %+v, tunnels %+v", as, tun)
	}
	uemSide := []uemapi.AppTunnel{
		{AppID: "com.example.intranet", User: "Alice", DeviceUUID: "demo-alice-ipad", Service: "<ANY>", Version: "4", State: uemapi.TunnelAllow},
		{AppID: "com.example.mail", User: "bob", DeviceUUID: "bob-ipad", State: uemapi.TunnelBlock, Reason: "device-blocked"},
	}
	rows := mergeTunnels(uemSide, tun)
	if len(rows) != 2 {
		t.Fatalf("rows %+v, want 2", rows)
	}
	want := []tunnelRow{
		{Device: "demo-alice-ipad", User: "Alice", App: "com.example.intranet", Service: "<ANY>", Version: "4", UEMState: "allow", GWState: "A", Validated: "Y", Connections: 2},
		{Device: "bob-ipad", User: "bob", App: "com.example.mail", UEMState: "block", Reason: "device-blocked"},
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
}
