package uem

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// admin calls the admin API and decodes a success body into out.
func admin(t *testing.T, w *world, method, path string, body any, wantStatus int, out any) *uemapi.Error {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.srv.AdminURL()+AdminPrefix+path, rd)
	req.Header.Set("Authorization", "Bearer "+w.srv.AdminToken())
	resp, err := w.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != wantStatus {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, wantStatus, b)
	}
	if resp.StatusCode >= 400 {
		var eb uemapi.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		return eb.Error
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return nil
}

func TestAdminAPI(t *testing.T) {
	w := newWorld(t, Config{})
	admin(t, w, "POST", "/users", User{ID: "alice", UPN: "alice@corp.example"}, 201, nil)
	admin(t, w, "POST", "/devices", Device{UUID: "d1", UserID: "alice", Platform: "iOS", EASDeviceIDs: []string{"E1"}}, 201, nil)
	if e := admin(t, w, "POST", "/devices", Device{UUID: "d2", UserID: "nobody", Platform: "iOS"}, 400, nil); e.Field != "user_id" {
		t.Fatalf("field %q", e.Field)
	}
	d := report(t, w, "E1", "alice@corp.example")
	report(t, w, "E2", "stranger@corp.example")

	// ASA-08 filters.
	var page AssociationPage
	admin(t, w, "GET", "/associations?registered=true", nil, 200, &page)
	if len(page.Items) != 1 || page.Items[0].ID != d.AssociationID {
		t.Fatalf("registered filter: %+v", page.Items)
	}
	admin(t, w, "GET", "/associations?registered=false", nil, 200, &page)
	if len(page.Items) != 1 || page.Items[0].DeviceID != "E2" {
		t.Fatalf("unregistered filter: %+v", page.Items)
	}
	admin(t, w, "GET", "/associations?registered=maybe", nil, 400, nil)

	// Actions and the event log.
	var a Association
	admin(t, w, "POST", "/associations/"+d.AssociationID+"/actions", Action{Action: ActBlock, Note: "via API"}, 200, &a)
	if a.State != uemapi.StateBlocked {
		t.Fatalf("block: %+v", a)
	}
	admin(t, w, "GET", "/associations?action_this_year=true&state=blocked", nil, 200, &page)
	if len(page.Items) != 1 {
		t.Fatalf("action filter: %+v", page.Items)
	}
	var evs []Event
	admin(t, w, "GET", "/events", nil, 200, &evs)
	if len(evs) != 1 || evs[0].Action != EventBlock || evs[0].Message != "via API" {
		t.Fatalf("events %+v", evs)
	}
	admin(t, w, "POST", "/associations/a999/actions", Action{Action: ActAllow}, 404, nil)
	admin(t, w, "POST", "/associations/"+d.AssociationID+"/actions", Action{Action: "explode"}, 400, nil)

	// Violation toggle (FLOW-08).
	var dev Device
	admin(t, w, "POST", "/devices/d1/security-violation", map[string]bool{"violation": true}, 200, &dev)
	if !dev.SecurityViolation {
		t.Fatal("violation not set")
	}

	// Preferences (PREF).
	var p Preferences
	admin(t, w, "GET", "/preferences", nil, 200, &p)
	if p.AutoBlockUnregistered || p.StrictLinking || p.DefaultPolicyBehavior != uemapi.PolicyApplyServer {
		t.Fatalf("PREF-02/PREF-06/DEF-02 defaults: %+v", p)
	}
	if e := admin(t, w, "PUT", "/preferences", map[string]any{"default_policy_behavior": "whatever"}, 400, nil); e.Field != "default_policy_behavior" {
		t.Fatalf("field %q", e.Field)
	}
	if e := admin(t, w, "PUT", "/preferences", map[string]any{"service_account_notification_email": "ops@corp.example, not-an-address"}, 400, nil); e.Field != "service_account_notification_email" {
		t.Fatalf("field %q", e.Field)
	}
	admin(t, w, "PUT", "/preferences", map[string]any{"service_account_notification_email": "ops@corp.example, sec@corp.example", "strict_linking": true}, 200, &p)
	if !p.StrictLinking || p.DefaultPolicyBehavior != uemapi.PolicyApplyServer {
		t.Fatalf("partial update lost fields: %+v", p)
	}
	var key uemapi.AttachmentKey
	admin(t, w, "POST", "/attachment-key/regenerate", nil, 200, &key)
	if len(key.Key) != 32 {
		t.Fatalf("key %+v", key)
	}

	// Policies (ASP).
	var pol uemapi.ActiveSyncPolicy
	admin(t, w, "POST", "/policies", map[string]any{"name": "Execs", "min_password_length": 8}, 201, &pol)
	if pol.MaxFailedAttempts != 8 || pol.MinComplexChars != 3 {
		t.Fatalf("policy defaults: %+v", pol)
	}
	if e := admin(t, w, "POST", "/policies", map[string]any{"name": "Bad", "max_failed_attempts": 17}, 400, nil); e.Field != "max_failed_attempts" {
		t.Fatalf("field %q", e.Field)
	}
	admin(t, w, "PUT", "/policies/"+pol.ID, map[string]any{"password_history": 50}, 200, &pol)
	if pol.PasswordHistory != 50 || pol.MinPasswordLength != 8 || pol.Version != 2 {
		t.Fatalf("policy update: %+v", pol)
	}
	var pols []PolicyInfo
	admin(t, w, "GET", "/policies", nil, 200, &pols)
	if len(pols) != 2 {
		t.Fatalf("policies %+v", pols)
	}
	admin(t, w, "DELETE", "/policies/default", nil, 409, nil)
	admin(t, w, "DELETE", "/policies/"+pol.ID, nil, 204, nil)

	// Gateway entries (ENT).
	var g GatewayEntry
	admin(t, w, "POST", "/gateways", map[string]any{"id": "gw2", "host": "sentry2.corp.example"}, 201, &g)
	if g.Port != DefaultGatewayPort || g.Enabled || g.Token == "" || g.NotificationURL != "https://sentry2.corp.example:9090"+NotificationPath {
		t.Fatalf("gateway defaults: %+v", g)
	}
	cfg := uemapi.DefaultGatewayConfig()
	cfg.Servers.DeadTimeMs = uemapi.DeadTimeMaxMs + 1
	if e := admin(t, w, "PUT", "/gateways/gw2/config", cfg, 400, nil); e.Field != "server_management.dead_time_ms" {
		t.Fatalf("field %q", e.Field)
	}
	admin(t, w, "POST", "/gateways/gw2/enable", nil, 200, &g)
	admin(t, w, "POST", "/gateways/gw2/enable", nil, 409, nil)
	admin(t, w, "DELETE", "/gateways/gw2", nil, 204, nil)
	admin(t, w, "GET", "/gateways/gw2", nil, 404, nil)

	// Faults.
	var f Faults
	admin(t, w, "PUT", "/faults", Faults{LatencyMs: 5, DropNotifications: true}, 200, &f)
	if f.LatencyMs != 5 || !f.DropNotifications {
		t.Fatalf("faults %+v", f)
	}
	admin(t, w, "PUT", "/faults", map[string]any{"error_rate": 2}, 400, nil)
	admin(t, w, "DELETE", "/faults", nil, 200, &f)
	if f != (Faults{}) {
		t.Fatalf("faults after clear %+v", f)
	}

	// Routing errors.
	admin(t, w, "GET", "/nothing", nil, 404, nil)
	admin(t, w, "DELETE", "/preferences", nil, 405, nil)
}
