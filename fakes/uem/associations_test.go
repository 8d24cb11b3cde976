package uem

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// seedUsers adds alice (one registered device with EAS id EAS-ALICE) and
// bob (one registered device whose EAS id is unknown to the UEM).
func seedUsers(t *testing.T, s *Server) {
	t.Helper()
	must[User](t)(s.AddUser(User{ID: "alice", UPN: "alice@corp.example", Email: "alice.smith@corp.example", MailboxID: "mbx-alice"}))
	must[User](t)(s.AddUser(User{ID: "bob", UPN: "bob@corp.example", Email: "bob@corp.example"}))
	must[Device](t)(s.AddDevice(Device{UUID: "dev-alice", UserID: "alice", Platform: "iOS", Model: "iPhone15,2", PhoneNumber: "+15550001", EASDeviceIDs: []string{"EAS-ALICE"}}))
	must[Device](t)(s.AddDevice(Device{UUID: "dev-bob", UserID: "bob", Platform: "Android", Model: "Pixel 8"}))
}

func report(t *testing.T, w *world, eas, user string) *uemapi.Decision {
	t.Helper()
	return must[*uemapi.Decision](t)(w.client.ReportDevice(context.Background(), uemapi.DeviceReport{EASDeviceID: eas, User: user, Model: "Reported", OS: "ReportedOS"}))
}

func TestLinking(t *testing.T) {
	cases := []struct {
		id, name   string
		strict     bool
		eas, user  string
		wantDevice string // "" = unregistered
	}{
		{"ASA-09", "EAS id match", false, "EAS-ALICE", "alice@corp.example", "dev-alice"},
		{"PREF-06", "EAS id match under strict linking", true, "EAS-ALICE", "alice@corp.example", "dev-alice"},
		{"PREF-06", "fallback on user name", false, "EAS-BOB-1", "bob@corp.example", "dev-bob"},
		{"PREF-06", "fallback on email", false, "EAS-X", "alice.smith@corp.example", "dev-alice"},
		{"PREF-06", "fallback on DOMAIN\\user id", false, "EAS-Y", `CORP\bob`, "dev-bob"},
		{"PREF-06", "no fallback under strict linking", true, "EAS-BOB-1", "bob@corp.example", ""},
		{"ASA-09", "unknown user stays unregistered", false, "EAS-Z", "mallory@corp.example", ""},
	}
	for _, c := range cases {
		t.Run(c.id+"/"+c.name, func(t *testing.T) {
			w := newWorld(t, Config{})
			seedUsers(t, w.srv)
			p := w.srv.Preferences()
			p.StrictLinking = c.strict
			must[Preferences](t)(w.srv.SetPreferences(p))
			d := report(t, w, c.eas, c.user)
			a := must[Association](t)(w.srv.Association(d.AssociationID))
			if a.DeviceUUID != c.wantDevice || d.Registered != (c.wantDevice != "") {
				t.Fatalf("linked to %q (registered=%v), want %q", a.DeviceUUID, d.Registered, c.wantDevice)
			}
			wantStatus := StatusUnregistered
			if c.wantDevice != "" {
				wantStatus = StatusRegistered
			}
			if a.Status != wantStatus { // ASA-03
				t.Errorf("status %q, want %q", a.Status, wantStatus)
			}
		})
	}
}

func TestAssociationColumns_ASA02(t *testing.T) {
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	d := report(t, w, "EAS-ALICE", "alice@corp.example")
	a := must[Association](t)(w.srv.Association(d.AssociationID))
	if a.DeviceID != "EAS-ALICE" || a.User != "alice@corp.example" || a.Number != "+15550001" || a.Phone != "iPhone15,2" ||
		a.OS != "ReportedOS" || a.SyncStatus != "Allowed" || a.MailboxID != "mbx-alice" || a.Domain != "gw1" ||
		a.FirstSyncTime.IsZero() || a.LastSyncTime.IsZero() || a.Status != StatusRegistered {
		t.Fatalf("columns: %+v", a)
	}
	// ASA-01: another user on the same device is its own record.
	d2 := report(t, w, "EAS-ALICE", "bob@corp.example")
	if d2.AssociationID == d.AssociationID || !d2.FirstAccess {
		t.Fatalf("second user shares record %s", d2.AssociationID)
	}
	// FLOW-04: a repeated report is not a first access.
	if again := report(t, w, "EAS-ALICE", "ALICE@corp.example"); again.FirstAccess || again.AssociationID != d.AssociationID {
		t.Fatalf("repeat report: %+v", again)
	}
}

func TestLinkTo_ACT12(t *testing.T) {
	setup := func(t *testing.T) (*world, string, string) {
		w := newWorld(t, Config{})
		seedUsers(t, w.srv)
		p := w.srv.Preferences()
		p.StrictLinking = true
		must[Preferences](t)(w.srv.SetPreferences(p))
		first := report(t, w, "EAS-ALICE", "alice@corp.example")      // linked by EAS id
		second := report(t, w, "EAS-SAMSUNG-2", "alice@corp.example") // unlinked (ASA-13)
		if !first.Registered || second.Registered {
			t.Fatalf("setup: %v %v", first.Registered, second.Registered)
		}
		return w, first.AssociationID, second.AssociationID
	}
	cases := []struct {
		id, mode     string
		wantCode     uemapi.Code
		firstLinked  bool
		secondLinked bool
	}{
		{"ACT-12", "", uemapi.CodeConflict, true, false},
		{"ACT-12", LinkReplace, "", false, true},
		{"ACT-12", LinkDuplicate, "", true, true},
		{"ACT-12", "merge", uemapi.CodeInvalidField, true, false},
	}
	for _, c := range cases {
		t.Run(c.id+"/mode="+c.mode, func(t *testing.T) {
			w, first, second := setup(t)
			_, err := w.srv.Act(second, Action{Action: ActLinkTo, DeviceUUID: "dev-alice", Mode: c.mode, Note: "link"})
			if c.wantCode != "" {
				mustCode(t, err, c.wantCode)
			} else if err != nil {
				t.Fatal(err)
			}
			a1 := must[Association](t)(w.srv.Association(first))
			a2 := must[Association](t)(w.srv.Association(second))
			if a1.Registered != c.firstLinked || a2.Registered != c.secondLinked {
				t.Fatalf("first linked=%v second linked=%v, want %v %v", a1.Registered, a2.Registered, c.firstLinked, c.secondLinked)
			}
			if c.secondLinked && a2.DeviceUUID != "dev-alice" {
				t.Fatalf("second linked to %q", a2.DeviceUUID)
			}
		})
	}
	t.Run("ACT-12/unknown device", func(t *testing.T) {
		w, _, second := setup(t)
		_, err := w.srv.Act(second, Action{Action: ActLinkTo, DeviceUUID: "nope"})
		mustCode(t, err, uemapi.CodeInvalidField)
	})
}

func TestManualOverridesAndRemove(t *testing.T) {
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	ctx := context.Background()
	d := report(t, w, "EAS-ALICE", "alice@corp.example")

	// ACT-03: Block with no violation.
	a := must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActBlock, Note: "lost phone"}))
	if a.State != uemapi.StateBlocked || !a.ManualOverride || a.Comment != "lost phone" {
		t.Fatalf("after block: %+v", a)
	}
	// ACT-04: compliance changes do not undo a manual block.
	must[Device](t)(w.srv.SetSecurityViolation("dev-alice", true))
	must[Device](t)(w.srv.SetSecurityViolation("dev-alice", false))
	if a = must[Association](t)(w.srv.Association(d.AssociationID)); a.State != uemapi.StateBlocked {
		t.Fatalf("ACT-04: manual block undone: %s", a.State)
	}
	// ACT-02: Allow despite a violation, and it sticks.
	must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActAllow, Note: "exec exception"}))
	must[Device](t)(w.srv.SetSecurityViolation("dev-alice", true))
	if got := report(t, w, "EAS-ALICE", "alice@corp.example"); got.State != uemapi.StateAllowed || got.Reason != uemapi.ReasonManualAllow {
		t.Fatalf("ACT-02: %s/%s", got.State, got.Reason)
	}
	// ACT-05/06: Wipe, then only Remove.
	a = must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActWipe, Note: "stolen"}))
	if a.State != uemapi.StateWiped || a.SyncStatus != "Wiped" {
		t.Fatalf("ACT-05: %+v", a)
	}
	for _, act := range []string{ActAllow, ActBlock, ActWipe, ActRegister, ActLinkTo, ActAssignPolicy, ActRevertPolicy} {
		_, err := w.srv.Act(d.AssociationID, Action{Action: act, DeviceUUID: "dev-alice", PolicyID: uemapi.DefaultPolicyID})
		mustCode(t, err, uemapi.CodeActionNotAllowed)
	}
	if err := w.client.AckWipe(ctx, uemapi.WipeAck{EASDeviceID: "EAS-ALICE", User: "alice@corp.example"}); err != nil {
		t.Fatal(err)
	}
	// ACT-10/11: Remove forgets everything; the next access is a first
	// access decided by policy again (the violation now blocks it).
	must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActRemove, Note: "reset"}))
	if _, err := w.srv.Association(d.AssociationID); !uemapi.IsCode(err, uemapi.CodeNotFound) {
		t.Fatalf("removed association still there: %v", err)
	}
	again := report(t, w, "EAS-ALICE", "alice@corp.example")
	if !again.FirstAccess || again.AssociationID == d.AssociationID || again.State != uemapi.StateBlocked || again.Reason != uemapi.ReasonSecurityViolation {
		t.Fatalf("ACT-11: %+v", again)
	}
	if a := must[Association](t)(w.srv.Association(again.AssociationID)); a.ManualOverride || a.Comment != "" {
		t.Fatalf("ACT-10: overrides survived: %+v", a)
	}
}

func TestActionsOnOneRecordOnly_ASA14(t *testing.T) {
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	a1 := report(t, w, "EAS-ALICE", "alice@corp.example")
	a2 := report(t, w, "EAS-OTHER", "alice@corp.example")
	a3 := report(t, w, "EAS-ALICE", "bob@corp.example")
	must[Association](t)(w.srv.Act(a1.AssociationID, Action{Action: ActBlock}))
	if s := must[Association](t)(w.srv.Association(a2.AssociationID)).State; s != uemapi.StateAllowed {
		t.Fatalf("same user on another device affected: %s", s)
	}
	// Assign Policy acts on the device: both users of EAS-ALICE get it.
	pol := must[uemapi.ActiveSyncPolicy](t)(w.srv.CreatePolicy(uemapi.NewPolicy("Execs")))
	must[Association](t)(w.srv.Act(a1.AssociationID, Action{Action: ActAssignPolicy, PolicyID: pol.ID}))
	for id, want := range map[string]string{a1.AssociationID: pol.ID, a3.AssociationID: pol.ID, a2.AssociationID: ""} {
		if got := must[Association](t)(w.srv.Association(id)).PolicyID; got != want {
			t.Errorf("%s policy %q, want %q", id, got, want)
		}
	}
	d := report(t, w, "EAS-ALICE", "bob@corp.example")
	if d.Behavior != uemapi.PolicyAssigned || d.Policy == nil || d.Policy.Name != "Execs" {
		t.Fatalf("ACT-13: decision %+v", d)
	}
	// ACT-14: Revert returns to the default behaviour.
	must[Association](t)(w.srv.Act(a3.AssociationID, Action{Action: ActRevertPolicy}))
	d = report(t, w, "EAS-ALICE", "alice@corp.example")
	if d.Behavior != uemapi.PolicyApplyServer || d.Policy != nil {
		t.Fatalf("ACT-14: decision %+v", d)
	}
}

func TestRegister_ACT09(t *testing.T) {
	w := newWorld(t, Config{})
	d := report(t, w, "EAS-NEW", "carol@corp.example")
	if d.Registered {
		t.Fatal("unknown user registered")
	}
	a := must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActRegister, Note: "enrol"}))
	if !a.Registered || a.DeviceUUID == "" {
		t.Fatalf("not registered: %+v", a)
	}
	dev := must[Device](t)(w.srv.Device(a.DeviceUUID))
	if dev.Platform != "ReportedOS" || len(dev.EASDeviceIDs) != 1 || dev.EASDeviceIDs[0] != "EAS-NEW" {
		t.Fatalf("device: %+v", dev)
	}
	_, err := w.srv.Act(d.AssociationID, Action{Action: ActRegister})
	mustCode(t, err, uemapi.CodeActionNotAllowed)
}

func TestMailboxLimit_ASP13(t *testing.T) {
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	pol := uemapi.NewPolicy("Two per mailbox")
	pol.MaxDevicesPerMailbox = 2
	pol.ApplyToMailboxes = []string{"mbx-alice"}
	must[uemapi.ActiveSyncPolicy](t)(w.srv.CreatePolicy(pol))
	states := []uemapi.SyncState{}
	for _, eas := range []string{"E1", "E2", "E3"} {
		states = append(states, report(t, w, eas, "alice@corp.example").State)
	}
	if states[0] != uemapi.StateAllowed || states[1] != uemapi.StateAllowed || states[2] != uemapi.StateBlocked {
		t.Fatalf("states %v, want allowed allowed blocked", states)
	}
	// Another mailbox is under the default policy (no limit).
	for _, eas := range []string{"B1", "B2", "B3"} {
		if s := report(t, w, eas, "bob@corp.example").State; s != uemapi.StateAllowed {
			t.Fatalf("bob %s: %s", eas, s)
		}
	}
}

func TestAutoBlockUnregistered_PREF03(t *testing.T) {
	w := newWorld(t, Config{})
	old := report(t, w, "EAS-OLD", "dave@corp.example")
	p := w.srv.Preferences()
	p.AutoBlockUnregistered = true
	must[Preferences](t)(w.srv.SetPreferences(p))
	if d := report(t, w, "EAS-OLD", "dave@corp.example"); d.State != uemapi.StateAllowed {
		t.Fatalf("existing unregistered record re-evaluated: %s", d.State)
	}
	if d := report(t, w, "EAS-NEW", "dave@corp.example"); d.State != uemapi.StateBlocked || d.Reason != uemapi.ReasonUnregistered {
		t.Fatalf("new unregistered: %s/%s", d.State, d.Reason)
	}
	// After Remove the rule applies to the old record too.
	must[Association](t)(w.srv.Act(old.AssociationID, Action{Action: ActRemove}))
	if d := report(t, w, "EAS-OLD", "dave@corp.example"); d.State != uemapi.StateBlocked {
		t.Fatalf("after remove: %s", d.State)
	}
}

func TestEventLog_ACT16(t *testing.T) {
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	d := report(t, w, "EAS-ALICE", "alice@corp.example")
	start := int64(0)
	must[Device](t)(w.srv.SetSecurityViolation("dev-alice", true))
	must[Device](t)(w.srv.SetSecurityViolation("dev-alice", false))
	must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActBlock, Note: "called helpdesk"}))
	must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActAllow}))
	evs := w.srv.Events(start)
	want := []struct {
		action    string
		automatic bool
		message   string
	}{
		{EventBlock, true, "security policy"},
		{EventReinstate, true, "security policy"},
		{EventBlock, false, "called helpdesk"},
		{EventReinstate, false, ""},
	}
	if len(evs) != len(want) {
		t.Fatalf("events: %+v", evs)
	}
	for i, e := range evs {
		wnt := want[i]
		okMsg := e.Message == wnt.message
		if wnt.automatic {
			okMsg = strings.Contains(e.Message, wnt.message)
		}
		if e.Action != wnt.action || e.Automatic != wnt.automatic || !okMsg || e.AssociationID != d.AssociationID {
			t.Errorf("event %d = %+v, want %+v", i, e, wnt)
		}
	}
	if got := w.srv.Events(evs[1].Seq); len(got) != 2 || got[0].Seq != evs[2].Seq {
		t.Errorf("Events(after) = %+v", got)
	}
}

func TestDefaultPolicyCannotBeDeleted_ASP01(t *testing.T) {
	w := newWorld(t, Config{})
	mustCode(t, w.srv.DeletePolicy(uemapi.DefaultPolicyID), uemapi.CodeActionNotAllowed)
	p := must[uemapi.ActiveSyncPolicy](t)(w.srv.CreatePolicy(uemapi.NewPolicy("Sales")))
	_, err := w.srv.CreatePolicy(uemapi.NewPolicy("sales"))
	mustCode(t, err, uemapi.CodeConflict)
	def := must[uemapi.ActiveSyncPolicy](t)(w.srv.Policy(uemapi.DefaultPolicyID))
	def.Name = "Renamed"
	_, err = w.srv.UpdatePolicy(uemapi.DefaultPolicyID, def)
	mustCode(t, err, uemapi.CodeInvalidField)
	if err := w.srv.DeletePolicy(p.ID); err != nil {
		t.Fatal(err)
	}
	mustCode(t, w.srv.DeletePolicy(p.ID), uemapi.CodeNotFound)
}

func TestAppTunnels_ATM(t *testing.T) {
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	ctx := context.Background()
	rep := uemapi.AppTunnelReport{AppID: "com.acme.docs", User: "alice@corp.example", DeviceUUID: "dev-alice", Service: "intranet", Version: uemapi.TunnelV2}
	tun := must[*uemapi.AppTunnel](t)(w.client.ReportAppTunnel(ctx, rep))
	if tun.State != uemapi.TunnelAllow || !tun.Registered {
		t.Fatalf("FLOW-06: %+v", tun)
	}
	// ATM-04: device-level block, then allow.
	must[Device](t)(w.srv.SetAppTunnelsBlocked("dev-alice", true, "audit"))
	if got := must[*uemapi.AppTunnel](t)(w.client.ReportAppTunnel(ctx, rep)); got.State != uemapi.TunnelBlock {
		t.Fatalf("ATM-04 block: %s", got.State)
	}
	must[Device](t)(w.srv.SetAppTunnelsBlocked("dev-alice", false, ""))
	// FLOW-08: a violation blocks tunnels too.
	must[Device](t)(w.srv.SetSecurityViolation("dev-alice", true))
	if got := must[*uemapi.AppTunnel](t)(w.client.ReportAppTunnel(ctx, rep)); got.State != uemapi.TunnelBlock {
		t.Fatalf("FLOW-08: %s", got.State)
	}
	// ATM-02: manual allow.
	must[uemapi.AppTunnel](t)(w.srv.ActOnTunnel(tun.ID, TunnelAction{Action: "allow", Note: "ok"}))
	if got := must[*uemapi.AppTunnel](t)(w.client.ReportAppTunnel(ctx, rep)); got.State != uemapi.TunnelAllow {
		t.Fatalf("ATM-02: %s", got.State)
	}
	// ATM-03: remove, and the next use is a new tunnel.
	must[uemapi.AppTunnel](t)(w.srv.ActOnTunnel(tun.ID, TunnelAction{Action: "remove"}))
	again := must[*uemapi.AppTunnel](t)(w.client.ReportAppTunnel(ctx, rep))
	if again.ID == tun.ID || again.State != uemapi.TunnelBlock {
		t.Fatalf("ATM-03: %+v", again)
	}
	page := must[*uemapi.AppTunnelPage](t)(w.client.AppTunnels(ctx, "", 0))
	if len(page.Items) != 1 || page.Items[0].ID != again.ID {
		t.Fatalf("tunnel list: %+v", page.Items)
	}
}

func TestLinkByUserPrefersUnlinkedDevice_PREF06(t *testing.T) {
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	later := must[Device](t)(w.srv.Device("dev-bob")).RegisteredAt.Add(time.Hour)
	must[Device](t)(w.srv.AddDevice(Device{UUID: "dev-bob2", UserID: "bob", Platform: "iOS", RegisteredAt: later}))
	want := map[string]string{"EAS-B1": "dev-bob", "EAS-B2": "dev-bob2", "EAS-B3": "dev-bob"}
	for _, eas := range []string{"EAS-B1", "EAS-B2", "EAS-B3"} {
		d := report(t, w, eas, "bob@corp.example")
		if got := must[Association](t)(w.srv.Association(d.AssociationID)).DeviceUUID; got != want[eas] {
			t.Fatalf("%s linked to %q, want %q", eas, got, want[eas])
		}
	}
	// Retiring a device unlinks its associations; new ones skip it.
	must[Device](t)(w.srv.RetireDevice("dev-bob"))
	for _, eas := range []string{"EAS-B1", "EAS-B3"} {
		if a := must[Association](t)(w.srv.FindAssociation(eas, "bob@corp.example")); a.Registered {
			t.Fatalf("%s still linked after retire: %+v", eas, a)
		}
	}
	if d := report(t, w, "EAS-B4", "bob@corp.example"); must[Association](t)(w.srv.Association(d.AssociationID)).DeviceUUID != "dev-bob2" {
		t.Fatal("new association linked to a retired device")
	}
}
