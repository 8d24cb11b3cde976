package uem

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The admin client sees what the server's Go API sees: the remote
// conformance world drives a containerised UEM through it.
func TestAdminClientMirrorsTheServer(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	c := NewAdminClient(w.srv.AdminURL(), w.srv.AdminToken(), w.hc)

	md, err := c.AddDevice(ctx, Device{UUID: "dev-carol", UserID: "alice", Platform: "iOS", EASDeviceIDs: []string{"EAS-CAROL"}})
	if err != nil || md.UUID != "dev-carol" {
		t.Fatalf("AddDevice = %+v, %v", md, err)
	}
	if _, err := c.FindAssociation(ctx, "EAS-CAROL", "alice"); !uemapi.IsCode(err, uemapi.CodeNotFound) {
		t.Fatalf("FindAssociation before any report: %v, want not_found", err)
	}
	report(t, w, "EAS-CAROL", "Alice") // users match case-insensitively, as in-process
	a, err := c.FindAssociation(ctx, "EAS-CAROL", "alice")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := w.srv.FindAssociation("EAS-CAROL", "alice")
	if a.ID != want.ID || a.SyncStatus != "Allowed" || !a.Registered {
		t.Fatalf("FindAssociation = %+v, want %+v", a, want)
	}

	if _, err := c.SetSecurityViolation(ctx, "dev-carol", true); err != nil {
		t.Fatal(err)
	}
	if got := must[Association](t)(c.Association(ctx, a.ID)); got.SyncStatus != "Blocked" {
		t.Fatalf("after a violation: %s, want Blocked", got.SyncStatus)
	}
	if got := must[Association](t)(c.Act(ctx, a.ID, Action{Action: ActAllow, Note: "exec"})); !got.ManualOverride {
		t.Fatalf("Act allow: %+v", got)
	}
	evs, err := c.Events(ctx, 0)
	if err != nil || len(evs) == 0 || evs[len(evs)-1].Message != "exec" {
		t.Fatalf("Events = %+v, %v", evs, err)
	}
	if more, _ := c.Events(ctx, evs[len(evs)-1].Seq); len(more) != 0 {
		t.Fatalf("Events after the last: %+v", more)
	}
	// API errors keep their code: the wipe spec checks action_not_allowed.
	must[Association](t)(c.Act(ctx, a.ID, Action{Action: ActWipe}))
	if _, err := c.Act(ctx, a.ID, Action{Action: ActAllow}); !uemapi.IsCode(err, uemapi.CodeActionNotAllowed) {
		t.Fatalf("allow after wipe: %v, want action_not_allowed", err)
	}

	p := DefaultPreferences()
	p.AutoBlockUnregistered = true
	if _, err := c.SetPreferences(ctx, p); err != nil {
		t.Fatal(err)
	}
	if got := must[Preferences](t)(c.Preferences(ctx)); !got.AutoBlockUnregistered || !w.srv.Preferences().AutoBlockUnregistered {
		t.Fatalf("preferences not set: %+v", got)
	}
	pol := uemapi.NewPolicy("Remote")
	pol.MinPasswordLength = 9
	pol = must[uemapi.ActiveSyncPolicy](t)(c.CreatePolicy(ctx, pol))
	pol.MinPasswordLength = 12
	if got := must[uemapi.ActiveSyncPolicy](t)(c.UpdatePolicy(ctx, pol.ID, pol)); got.MinPasswordLength != 12 {
		t.Fatalf("UpdatePolicy = %+v", got)
	}
	if g, err := c.Gateway(ctx, "gw1"); err != nil || g.ID != "gw1" {
		t.Fatalf("Gateway = %+v, %v", g, err)
	}
	if _, err := c.Deliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAdminClientFaultsTakeTheGatewayAPIDown(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, Config{})
	c := NewAdminClient(w.srv.AdminURL(), w.srv.AdminToken(), w.hc)
	if err := c.SetFaults(ctx, Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	if f := must[Faults](t)(c.Faults(ctx)); !f.Down {
		t.Fatalf("Faults = %+v, want down", f)
	}
	_, _, err := w.client.Config(context.Background(), "")
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("gateway API while down: %v, want a connection error", err)
	}
	if err := c.SetFaults(ctx, Faults{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.client.Config(context.Background(), ""); err != nil {
		t.Fatalf("gateway API back: %v", err)
	}
	if err := c.SetFaults(ctx, Faults{ErrorRate: 2}); !uemapi.IsCode(err, uemapi.CodeInvalidField) {
		t.Fatalf("invalid faults: %v, want invalid_field", err)
	}
}

func TestAdminClientNeedsTheToken(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, Config{})
	_, err := NewAdminClient(w.srv.AdminURL(), "wrong-token", w.hc).Preferences(ctx)
	if !uemapi.IsCode(err, uemapi.CodeUnauthorized) {
		t.Fatalf("wrong token: %v, want unauthorized", err)
	}
}

// ENT-03, ENT-04: the client disables and enables an entry as the
// server's Go API does; a change saved meanwhile stays pending.
func TestAdminClientDisablesAndEnablesAGateway(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, Config{})
	c := NewAdminClient(w.srv.AdminURL(), w.srv.AdminToken(), w.hc)
	g, err := c.SetGatewayEnabled(ctx, "gw1", false)
	if err != nil || g.Enabled {
		t.Fatalf("disable = %+v, %v", g, err)
	}
	if _, err := c.SetGatewayEnabled(ctx, "gw1", false); !uemapi.IsCode(err, uemapi.CodeActionNotAllowed) {
		t.Fatalf("disabling a disabled entry: %v, want action_not_allowed", err)
	}
	if g, err = c.SetGatewayConfig(ctx, "gw1", g.Config); err != nil || !g.PendingChanges {
		t.Fatalf("a change while disabled: %+v, %v (want pending)", g, err)
	}
	if g, err = c.SetGatewayEnabled(ctx, "gw1", true); err != nil || !g.Enabled || g.PendingChanges {
		t.Fatalf("enable = %+v, %v", g, err)
	}
	if srv, _ := w.srv.Gateway("gw1"); !srv.Enabled {
		t.Fatal("the server's entry is still disabled")
	}
}
