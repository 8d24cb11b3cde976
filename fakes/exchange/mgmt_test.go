package exchange

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

func mgmtClient(srv *Server) *exmgmt.Client {
	return exmgmt.NewClient(srv.AdminURL(), srv.MgmtToken(), httpClient(srv))
}

// syncedDevice provisions a device and returns its client and Inbox id.
func syncedDevice(t *testing.T, srv *Server, user, dev string, v eas.Version) (*testClient, string) {
	t.Helper()
	c := newClient(t, srv, user, dev, v)
	c.provision()
	return c, inbox(t, c.folderSync("0"))
}

func folderSyncStatus(t *testing.T, c *testClient) (int, int) {
	t.Helper()
	var r eas.FolderSyncResponse
	st := c.call(eas.CmdFolderSync, &eas.FolderSyncRequest{SyncKey: "0"}, &r)
	return st, r.Status
}

func TestMgmtTokenIsItsOwn(t *testing.T) {
	srv := startServer(t, Config{MgmtToken: "mgmt-secret-token", MessagesPerUser: -1})
	ctx := context.Background()
	bad := exmgmt.NewClient(srv.AdminURL(), srv.AdminToken(), httpClient(srv))
	var apiErr *httpapi.Error
	if _, err := bad.Mailboxes(ctx, exmgmt.ListOptions{}); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("admin token on the management API: %v, want 401", err)
	}
	if p, err := mgmtClient(srv).Mailboxes(ctx, exmgmt.ListOptions{}); err != nil || len(p.Items) != 3 {
		t.Fatalf("mailboxes: %v %+v", err, p)
	}
}

func TestINT12RecalculateFixesThePartnershipFlag(t *testing.T) {
	srv := startServer(t, Config{MessagesPerUser: -1})
	ctx, mc := context.Background(), mgmtClient(srv)
	syncedDevice(t, srv, "user1", "DEV1", eas.V141)
	srv.Management().SetPartnershipFlag("user2", true) // migrated with a wrong flag (INT-13)
	names := func() string {
		p, err := mc.Mailboxes(ctx, exmgmt.ListOptions{WithPartnership: true})
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, m := range p.Items {
			n = append(n, m.Name)
		}
		return strings.Join(n, ",")
	}
	if got := names(); got != "user1,user2" {
		t.Fatalf("before recalculation: %s", got)
	}
	r, err := mc.Recalculate(ctx)
	if err != nil || r.Changed != 1 || r.Mailboxes != 3 {
		t.Fatalf("recalculate: %v %+v", err, r)
	}
	if got := names(); got != "user1" {
		t.Fatalf("after recalculation: %s", got)
	}
	if err := mc.Remove(ctx, "user1", "DEV1"); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != "user1" { // stale until recalculated
		t.Fatalf("after Remove-MobileDevice: %s", got)
	}
	if _, err := mc.Recalculate(ctx); err != nil || names() != "" {
		t.Fatalf("after the second recalculation: %v %q", err, names())
	}
}

func TestABQBlockedDeviceGetsExchangeStatus(t *testing.T) {
	srv := startServer(t, Config{MessagesPerUser: 2})
	ctx, mc := context.Background(), mgmtClient(srv)
	c14, _ := syncedDevice(t, srv, "user1", "DEV14", eas.V141)
	c12, _ := syncedDevice(t, srv, "user1", "DEV12", eas.V121)
	if _, err := mc.SetAccess(ctx, "user1", exmgmt.AccessChange{Block: []string{"DEV14", "DEV12"}}); err != nil {
		t.Fatal(err)
	}
	if st, s := folderSyncStatus(t, c14); st != 200 || s != int(eas.StatusDeviceIsBlockedForThisUser) {
		t.Fatalf("14.1 blocked: HTTP %d Status %d, want 200 / 129", st, s)
	}
	if st, _ := folderSyncStatus(t, c12); st != http.StatusForbidden {
		t.Fatalf("12.1 blocked: HTTP %d, want 403", st)
	}
	d, _ := srv.Management().Device("user1", "DEV14")
	if d.AccessState != exmgmt.StateBlocked || d.AccessStateReason != exmgmt.ReasonIndividual {
		t.Fatalf("Get-MobileDevice: %+v", d)
	}
	if _, err := mc.SetAccess(ctx, "user1", exmgmt.AccessChange{Allow: []string{"DEV14"}}); err != nil {
		t.Fatal(err)
	}
	if st, s := folderSyncStatus(t, c14); st != 200 || s != 1 {
		t.Fatalf("allowed again: HTTP %d Status %d", st, s)
	}
}

func TestABQRulesFollowExchangeOrder(t *testing.T) {
	srv := startServer(t, Config{MessagesPerUser: -1})
	ctx, mc := context.Background(), mgmtClient(srv)
	c, _ := syncedDevice(t, srv, "user1", "DEVA", eas.V141) // DeviceType of the test client
	typ := c.srv.Partnerships()[0].DeviceType
	o0, _ := mc.Organization(ctx)
	if err := mc.AddRule(ctx, exmgmt.Rule{Name: "no " + typ, Characteristic: exmgmt.ByType, QueryString: typ, AccessLevel: exmgmt.LevelBlock}); err != nil {
		t.Fatal(err)
	}
	if o1, _ := mc.Organization(ctx); !o1.RulesChanged.After(o0.RulesChanged) && !o0.RulesChanged.IsZero() {
		t.Fatalf("a new rule must move rules_changed: %v → %v", o0.RulesChanged, o1.RulesChanged)
	}
	if d, _ := srv.Management().Device("user1", "DEVA"); d.AccessState != exmgmt.StateBlocked || d.AccessStateReason != exmgmt.ReasonDeviceRule {
		t.Fatalf("type rule: %+v", d)
	}
	if err := mc.AddRule(ctx, exmgmt.Rule{Name: "model ok", Characteristic: exmgmt.ByModel, QueryString: "testphone 9", AccessLevel: exmgmt.LevelAllow}); err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.Management().Device("user1", "DEVA"); d.AccessState != exmgmt.StateAllowed {
		t.Fatalf("a model rule wins over a type rule: %+v", d)
	}
	if _, err := mc.SetAccess(ctx, "user1", exmgmt.AccessChange{Block: []string{"DEVA"}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.Management().Device("user1", "DEVA"); d.AccessStateReason != exmgmt.ReasonIndividual || d.AccessState != exmgmt.StateBlocked {
		t.Fatalf("the mailbox's list wins over rules: %+v", d)
	}
	_ = mc.RemoveRule(ctx, "model ok")
	_ = mc.RemoveRule(ctx, "no "+typ)
	_, _ = mc.SetAccess(ctx, "user1", exmgmt.AccessChange{Forget: []string{"DEVA"}})
	if _, err := mc.SetDefaultAccess(ctx, exmgmt.LevelBlock); err != nil {
		t.Fatal(err)
	}
	if d, _ := srv.Management().Device("user1", "DEVA"); d.AccessState != exmgmt.StateBlocked || d.AccessStateReason != exmgmt.ReasonGlobal {
		t.Fatalf("default level: %+v", d)
	}
}

func TestABQQuarantineSyncsOnlyTheNotice(t *testing.T) {
	srv := startServer(t, Config{MessagesPerUser: 5})
	c, in := syncedDevice(t, srv, "user1", "DEVQ", eas.V141)
	srv.Management().SetDefaultAccess(exmgmt.LevelQuarantine)
	r0 := c.syncOnce(in, "0", 50)
	r1 := c.syncOnce(in, r0.SyncKey, 50)
	if r1.Commands == nil || len(r1.Commands.Add) != 1 || r1.Commands.Add[0].ApplicationData.Subject != QuarantineSubject {
		t.Fatalf("quarantined Sync: %+v", r1)
	}
	if r2 := c.syncOnce(in, r1.SyncKey, 50); r2.Commands != nil {
		t.Fatalf("the notice comes once: %+v", r2)
	}
	var sm eas.SendMailResponse
	if st := c.call(eas.CmdSendMail, &eas.SendMail{ClientId: "1", Mime: []byte("Subject: x\r\n\r\nx")}, &sm); st != 200 || sm.Status != int(eas.StatusDeviceIsBlockedForThisUser) {
		t.Fatalf("quarantined SendMail: HTTP %d %+v", st, sm)
	}
	srv.Management().SetDefaultAccess(exmgmt.LevelAllow)
	if r := c.syncOnce(in, "0", 50); r.Status != 1 {
		t.Fatalf("allowed again: %+v", r)
	}
}

func TestMgmtPagingSinceAndWipe(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	srv := startServer(t, Config{MessagesPerUser: -1, NumUsers: 1, Now: func() time.Time { return now }})
	ctx, mc, g := context.Background(), mgmtClient(srv), srv.Management()
	g.Populate("p", 10, 2, nil, t0)
	seen := map[string]bool{}
	cursor, pages := "", 0
	for pages = 0; pages < 20; pages++ {
		p, err := mc.Devices(ctx, exmgmt.ListOptions{Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Items {
			if seen[d.User+"/"+d.DeviceID] {
				t.Fatalf("device %s/%s twice", d.User, d.DeviceID)
			}
			seen[d.User+"/"+d.DeviceID] = true
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 20 || pages != 6 {
		t.Fatalf("%d devices in %d pages, want 20 in 7", len(seen), pages+1)
	}
	now = t0.Add(time.Hour)
	if _, err := mc.SetAccess(ctx, "p3", exmgmt.AccessChange{Block: []string{"p3-d1"}}); err != nil {
		t.Fatal(err)
	}
	d, err := mc.Wipe(ctx, "p4", "p4-d2", true)
	if err != nil || d.WipeState != exmgmt.WipeAccountOnlyPending {
		t.Fatalf("Clear-MobileDevice -AccountOnly: %v %+v", err, d)
	}
	p, err := mc.Devices(ctx, exmgmt.ListOptions{Since: t0.Add(time.Minute)})
	if err != nil || len(p.Items) != 2 || p.Items[0].DeviceID != "p3-d1" || p.Items[0].AccessState != exmgmt.StateBlocked || p.Items[1].DeviceID != "p4-d2" {
		t.Fatalf("changes since: %v %+v", err, p)
	}
}

func TestMgmtFaults(t *testing.T) {
	srv := startServer(t, Config{MessagesPerUser: -1, NumUsers: 1})
	ctx, mc, g := context.Background(), mgmtClient(srv), srv.Management()
	g.Populate("p", 4, 1, nil, time.Now())
	for _, kind := range []string{PageError, PageGarbage} {
		if err := g.SetFaults(MgmtFaults{Page: &PageFault{Kind: kind, After: 1}}); err != nil {
			t.Fatal(err)
		}
		if _, err := mc.Devices(ctx, exmgmt.ListOptions{Limit: 2}); err != nil {
			t.Fatalf("%s: the first page is good: %v", kind, err)
		}
		if _, err := mc.Devices(ctx, exmgmt.ListOptions{Limit: 2, Cursor: "2"}); err == nil {
			t.Fatalf("%s: the second page must fail", kind)
		}
		if _, err := mc.Devices(ctx, exmgmt.ListOptions{Limit: 2, Cursor: "2"}); err != nil {
			t.Fatalf("%s: Count 1 breaks one answer: %v", kind, err)
		}
	}
	_ = g.SetFaults(MgmtFaults{Page: &PageFault{Kind: PageDuplicate, After: 1}})
	p1, _ := mc.Devices(ctx, exmgmt.ListOptions{Limit: 2})
	p2, err := mc.Devices(ctx, exmgmt.ListOptions{Limit: 2, Cursor: p1.NextCursor})
	if err != nil || p2.Items[0].DeviceID != p1.Items[0].DeviceID || p2.NextCursor == p1.NextCursor {
		t.Fatalf("duplicate page: %v %+v / %+v", err, p1, p2)
	}
	_ = g.SetFaults(MgmtFaults{Page: &PageFault{Kind: PageHang}})
	hctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := mc.Devices(hctx, exmgmt.ListOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: %v", err)
	}
	_ = g.SetFaults(MgmtFaults{ClockSkewSeconds: -600})
	p, err := mc.Mailboxes(ctx, exmgmt.ListOptions{})
	if err != nil || time.Since(p.ServerTime) < 9*time.Minute {
		t.Fatalf("clock skew: %v %v", err, p.ServerTime)
	}
	if err := g.SetFaults(MgmtFaults{Page: &PageFault{Kind: "melt"}}); err == nil {
		t.Fatal("an unknown fault kind must be refused")
	}
}
