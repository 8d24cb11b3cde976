package exchange

import (
	"context"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// The admin client orders wipes as the server's Go API does, full and
// account-only (the decision specs use it against a remote Exchange).
func TestAdminClientWipe(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, Config{MessagesPerUser: 1})
	c := NewAdminClient(srv.AdminURL(), srv.AdminToken(), httpClient(srv))
	user := srv.Users()[0].Name
	newClient(t, srv, user, "WIPEFULL", eas.V161).provision()
	newClient(t, srv, user, "WIPEACCT", eas.V161).provision()
	for dev, accountOnly := range map[string]bool{"WIPEFULL": false, "WIPEACCT": true} {
		p, err := c.Wipe(ctx, user, dev, accountOnly)
		if err != nil || p.DeviceID != dev {
			t.Fatalf("Wipe(%s) = %+v, %v", dev, p, err)
		}
	}
	want := map[string]string{"WIPEFULL": AccessWipePending, "WIPEACCT": AccessAccountOnlyWipePending}
	for _, p := range srv.Partnerships() {
		if w, ok := want[p.DeviceID]; ok && p.AccessState != w {
			t.Errorf("%s: access state %v, want %v", p.DeviceID, p.AccessState, w)
		}
	}
	if _, err := c.Wipe(ctx, user, "NODEVICE", false); err == nil {
		t.Fatal("a wipe of an unknown device was accepted")
	}
}
