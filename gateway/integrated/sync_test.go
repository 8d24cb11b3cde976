package integrated

import (
	"strings"
	"testing"
	"time"

	fakeex "github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestINT05FullSyncLearnsAssociationsAndPushesDecisions(t *testing.T) {
	w := newWorld(t)
	w.partner("alice", "ALICEPHONE", "iPhone")
	w.partner("bob", "BOBPAD", "iPad")
	w.ex.Management().SetDefaultAccess(exmgmt.LevelQuarantine) // Exchange quarantines what the UEM did not allow
	w.mustSync(Full)
	if a := w.assoc("ALICEPHONE", "alice"); a.State != uemapi.StateAllowed {
		t.Fatalf("association learnt through the connector: %+v", a)
	}
	for _, k := range []devKey{{"alice", "ALICEPHONE"}, {"bob", "BOBPAD"}} {
		if d := w.device(k.user, k.device); d.AccessState != exmgmt.StateAllowed || d.AccessStateReason != exmgmt.ReasonIndividual {
			t.Fatalf("%v: Exchange must allow what the UEM allows: %+v", k, d)
		}
	}
	st := w.conn.State()
	if st.LastFull.IsZero() || st.LastSuccess != st.LastFull || st.Devices != 2 || st.Mailboxes != 3 || st.Pushed != 2 {
		t.Fatalf("state: %+v", st)
	}
}

func TestINT05ResumesFromTheFailedBatch(t *testing.T) {
	w := newWorld(t)
	g := w.ex.Management()
	g.Populate("p", 10, 1, nil, w.clk.now()) // 13 mailboxes, 10 devices: 5 + 4 pages of 3
	if err := g.SetFaults(fakeex.MgmtFaults{Page: &fakeex.PageFault{Kind: fakeex.PageError, After: 6}}); err != nil {
		t.Fatal(err)
	}
	err := w.sync(Full)
	if err == nil || !strings.Contains(err.Error(), "device batch 7") || !strings.Contains(err.Error(), "resumes at devices batch 7") {
		t.Fatalf("first attempt: %v", err)
	}
	if st := w.conn.State(); st.Phase != phaseDevices || st.Batch != 6 || st.LastFull.IsZero() == false {
		t.Fatalf("state after the failure: %+v", st)
	}
	before := g.PagesServed()
	w.mustSync(Differential) // escalates: a full sync to resume
	if got := g.PagesServed() - before; got != 3 {
		t.Fatalf("the resumed sync asked for %d pages, want the 3 from the failed batch on", got)
	}
	if st := w.conn.State(); st.Devices != 10 || st.Mailboxes != 13 {
		t.Fatalf("after resuming: %+v", st)
	}
}

func TestINT07DifferentialPicksUpANewPartnership(t *testing.T) {
	w := newWorld(t)
	w.partner("alice", "A1", "iPhone")
	w.mustSync(Full)
	full := w.conn.State().LastFull
	w.clk.advance(time.Minute)
	w.partner("bob", "B1", "Android")
	w.mustSync(Differential)
	st := w.conn.State()
	if st.LastFull != full || st.LastDifferential.IsZero() || st.Devices != 2 {
		t.Fatalf("state: %+v", st)
	}
	w.assoc("B1", "bob")
	if m, _ := w.ex.Management().Mailbox("bob"); len(m.AllowedDeviceIDs) != 1 || m.AllowedDeviceIDs[0] != "B1" {
		t.Fatalf("bob's allowed ids: %+v", m)
	}
}

func TestINT11EverySuccessfulSyncIsTimestamped(t *testing.T) {
	w := newWorld(t)
	w.mustSync(Full)
	w.clk.advance(time.Minute)
	w.mustSync(Differential)
	first := w.conn.State().LastDifferential
	w.clk.advance(time.Minute)
	w.mustSync(Differential) // nothing changed
	if st := w.conn.State(); !st.LastDifferential.After(first) || st.LastSuccess != st.LastDifferential {
		t.Fatalf("a sync without changes must be timestamped too: %+v (first %v)", st, first)
	}
}

func TestINT10RuleChangeEscalatesToFull(t *testing.T) {
	w := newWorld(t)
	w.mustSync(Full)
	full := w.conn.State().LastFull
	w.clk.advance(time.Minute)
	if err := w.ex.Management().AddRule(exmgmt.Rule{Name: "no android", Characteristic: exmgmt.ByType, QueryString: "Android", AccessLevel: exmgmt.LevelBlock}); err != nil {
		t.Fatal(err)
	}
	w.mustSync(Differential)
	if st := w.conn.State(); !st.LastFull.After(full) {
		t.Fatalf("a rule change must turn the differential into a full sync: %+v", st)
	}
	w.clk.advance(time.Minute)
	w.mustSync(Differential)
	if st := w.conn.State(); st.LastDifferential.IsZero() {
		t.Fatalf("then differentials again: %+v", st)
	}
}

func TestINT06FullAfterSevenDaysAndAfterAFailedDifferential(t *testing.T) {
	w := newWorld(t)
	w.mustSync(Full)
	full := w.conn.State().LastFull
	w.clk.advance(7*24*time.Hour + time.Minute)
	w.mustSync(Differential)
	st := w.conn.State()
	if !st.LastFull.After(full) {
		t.Fatalf("7 days after the last full sync a differential is a full one: %+v", st)
	}
	full = st.LastFull
	w.clk.advance(time.Minute)
	_ = w.ex.Management().SetFaults(fakeex.MgmtFaults{Page: &fakeex.PageFault{Kind: fakeex.PageError}})
	if err := w.sync(Differential); err == nil {
		t.Fatal("the differential must fail")
	}
	if st := w.conn.State(); st.NeedFull == "" || st.LastError == "" {
		t.Fatalf("a failed differential asks for a full sync: %+v", st)
	}
	w.mustSync(Differential)
	if st := w.conn.State(); !st.LastFull.After(full) || st.NeedFull != "" || st.LastError != "" {
		t.Fatalf("the next sync is full: %+v", st)
	}
}

func TestINT08ClockSkewFailsTheDifferential(t *testing.T) {
	w := newWorld(t)
	w.mustSync(Full)
	_ = w.ex.Management().SetFaults(fakeex.MgmtFaults{ClockSkewSeconds: 600})
	err := w.sync(Differential)
	if err == nil || !strings.Contains(err.Error(), "clock skew") {
		t.Fatalf("differential with Exchange 10 min ahead: %v", err)
	}
	full := w.conn.State().LastFull
	w.mustSync(Differential) // escalated: a full sync does not depend on the clocks
	if st := w.conn.State(); !st.LastFull.After(full) {
		t.Fatalf("%+v", st)
	}
}

func TestINT02GroupScoping(t *testing.T) {
	w := newWorld(t, withSettings(func(ic *uemapi.IntegratedConfig) { ic.LDAPGroups = []string{"CN=Sales,OU=Groups,DC=corp,DC=example"} }))
	w.ex.Management().SetGroups("alice", "cn=sales, ou=groups, dc=corp, dc=example")
	w.ex.Management().SetGroups("bob", "CN=Engineering,OU=Groups,DC=corp,DC=example")
	w.partner("alice", "A1", "iPhone")
	w.partner("bob", "B1", "iPhone")
	w.mustSync(Full)
	if st := w.conn.State(); st.Mailboxes != 1 || st.Devices != 1 {
		t.Fatalf("only Sales syncs: %+v", st)
	}
	if _, err := w.uem.FindAssociation("B1", "bob"); err == nil {
		t.Fatal("a device outside the groups must not reach the UEM")
	}
}

func TestINT12HostedRecalculatesAndSyncsPartneredMailboxesOnly(t *testing.T) {
	w := newWorld(t, withSettings(func(ic *uemapi.IntegratedConfig) {
		ic.Hosted = &uemapi.HostedExchange{RemoteFQDN: "ps.outlook.com", Authentication: "Basic", UseSSL: true, UserName: `corp\svc`, Password: "x"}
	}))
	w.partner("alice", "A1", "iPhone")
	w.ex.Management().SetPartnershipFlag("bob", true) // migrated with a wrong flag (INT-13)
	w.mustSync(Full)
	if st := w.conn.State(); st.Mailboxes != 1 {
		t.Fatalf("after recalculation only alice has a partnership: %+v", st)
	}
	if m, _ := w.ex.Management().Mailbox("bob"); m.HasActiveSyncDevicePartnership {
		t.Fatal("the flag must have been recalculated")
	}
}

func TestINT14BlockAndWipeReachExchange(t *testing.T) {
	w := newWorld(t)
	w.partner("alice", "A1", "iPhone")
	w.partner("bob", "B1", "iPhone")
	w.mustSync(Full)
	a := w.assoc("A1", "alice")
	if _, err := w.uem.Act(a.ID, uem.Action{Action: uem.ActBlock, Note: "lost"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Exchange blocks A1 after the UEM's block", func() bool { return w.device("alice", "A1").AccessState == exmgmt.StateBlocked })
	b := w.assoc("B1", "bob")
	if _, err := w.uem.Act(b.ID, uem.Action{Action: uem.ActWipe}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Exchange wipes B1", func() bool { return w.device("bob", "B1").WipeState == exmgmt.WipePending })
	// Without notifications, the next full sync carries the decision.
	if _, err := w.uem.Act(a.ID, uem.Action{Action: uem.ActAllow}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Exchange allows A1 again", func() bool { return w.device("alice", "A1").AccessState == exmgmt.StateAllowed })
}

func TestINT14FullSyncCarriesADecisionMadeMeanwhile(t *testing.T) {
	w := newWorld(t)
	w.partner("alice", "A1", "iPhone")
	w.mustSync(Full)
	_, _ = w.uem.SetGatewayEnabled("int1", false) // no notifications
	a := w.assoc("A1", "alice")
	if _, err := w.uem.Act(a.ID, uem.Action{Action: uem.ActBlock}); err != nil {
		t.Fatal(err)
	}
	w.mustSync(Full)
	if d := w.device("alice", "A1"); d.AccessState != exmgmt.StateBlocked {
		t.Fatalf("%+v", d)
	}
}

func TestINT16ErrorsAppearOnTheGatewayEntry(t *testing.T) {
	w := newWorld(t)
	_ = w.ex.Management().SetFaults(fakeex.MgmtFaults{Page: &fakeex.PageFault{Kind: fakeex.PageGarbage}})
	if err := w.sync(Full); err == nil {
		t.Fatal("garbage must fail the sync")
	}
	g, _ := w.uem.Gateway("int1")
	if g.Integrated == nil || len(g.Integrated.Errors) != 1 || !strings.Contains(g.Integrated.Errors[0], "mailbox batch 1") {
		t.Fatalf("gateway entry: %+v", g.Integrated)
	}
	w.mustSync(Full)
	if g, _ := w.uem.Gateway("int1"); len(g.Integrated.Errors) != 0 || g.Integrated.LastFull.IsZero() {
		t.Fatalf("a good sync clears the errors: %+v", g.Integrated)
	}
}
