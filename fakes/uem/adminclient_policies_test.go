package uem

import (
	"context"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The admin client lists the policies with their "# Phones" as the
// server's Go API does (ASP-16).
func TestAdminClientPolicies(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	c := NewAdminClient(w.srv.AdminURL(), w.srv.AdminToken(), w.hc)
	p := must[uemapi.ActiveSyncPolicy](t)(c.CreatePolicy(ctx, uemapi.NewPolicy("Counted")))
	d := report(t, w, "EAS-ALICE", "alice@corp.example")
	must[Association](t)(c.Act(ctx, d.AssociationID, Action{Action: ActAssignPolicy, PolicyID: p.ID}))
	ps, err := c.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := w.srv.Policies()
	if len(ps) != len(want) {
		t.Fatalf("%d policies, want %d", len(ps), len(want))
	}
	for _, got := range ps {
		if got.ID == p.ID && got.Phones != 1 {
			t.Fatalf("# Phones of %s = %d, want 1", got.Name, got.Phones)
		}
	}
}
