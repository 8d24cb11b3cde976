package uem

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

var testSecret = []byte("notify-secret-for-tests-0123456789")

// receiver is a gateway's notification endpoint over TLS that verifies
// every notification with uemapi.VerifyNotification.
type receiver struct {
	ts *httptest.Server

	mu       sync.Mutex
	failNext int // answer 503 to this many requests
	attempts map[string]int
	got      []uemapi.Notification
	rejected int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{attempts: map[string]int{}}
	r.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n, err := uemapi.VerifyNotification(req, testSecret, time.Now(), 0)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.rejected++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.attempts[n.ID]++
		if r.failNext > 0 {
			r.failNext--
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		r.got = append(r.got, *n)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.ts.Close)
	return r
}

func (r *receiver) received() []uemapi.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uemapi.Notification(nil), r.got...)
}

func (r *receiver) find(typ uemapi.NotificationType) (uemapi.Notification, bool) {
	for _, n := range r.received() {
		if n.Type == typ {
			return n, true
		}
	}
	return uemapi.Notification{}, false
}

// notifyWorld is a fake UEM whose gateway entry gw1 points at a receiver.
func notifyWorld(t *testing.T, attempts int) (*world, *receiver) {
	t.Helper()
	rcv := newReceiver(t)
	srv := startUEM(t, Config{Notify: NotifyConfig{Attempts: attempts, BaseDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond, Timeout: 2 * time.Second, HTTPClient: rcv.ts.Client()}})
	gw := must[GatewayEntry](t)(srv.AddGateway(GatewayEntry{ID: "gw1", Host: "127.0.0.1", Token: testToken, Enabled: true,
		NotifySecret: testSecret, NotificationURL: rcv.ts.URL + NotificationPath}))
	c, _ := uemapi.NewClient(srv.GatewayURL(), testToken, uemapi.WithHTTPClient(trustingClient(srv)))
	return &world{srv: srv, client: c, hc: trustingClient(srv), gw: gw}, rcv
}

func deliveryOf(s *Server, typ uemapi.NotificationType) (Delivery, bool) {
	for _, d := range s.Deliveries() {
		if d.Type == string(typ) {
			return d, true
		}
	}
	return Delivery{}, false
}

func TestNotify_DeviceStateSignedAndDelivered_FLOW08(t *testing.T) {
	w, rcv := notifyWorld(t, 3)
	seedUsers(t, w.srv)
	d := report(t, w, "EAS-ALICE", "alice@corp.example")
	must[Device](t)(w.srv.SetSecurityViolation("dev-alice", true))
	eventually(t, "device.state notification", func() bool { _, ok := rcv.find(uemapi.NotifyDeviceState); return ok })
	n, _ := rcv.find(uemapi.NotifyDeviceState)
	if n.GatewayID != "gw1" || n.Device == nil || n.Device.AssociationID != d.AssociationID || n.Device.State != uemapi.StateBlocked || n.Device.Reason != uemapi.ReasonSecurityViolation {
		t.Fatalf("notification %+v device %+v", n, n.Device)
	}
	eventually(t, "entry status Success", func() bool { return must[GatewayEntry](t)(w.srv.Gateway("gw1")).Status == "Success" })
}

func TestNotify_RetriedWithSameID(t *testing.T) {
	w, rcv := notifyWorld(t, 5)
	rcv.mu.Lock()
	rcv.failNext = 2
	rcv.mu.Unlock()
	w.srv.RegenerateKey()
	eventually(t, "key notification", func() bool { _, ok := rcv.find(uemapi.NotifyKey); return ok })
	n, _ := rcv.find(uemapi.NotifyKey)
	rcv.mu.Lock()
	attempts := rcv.attempts[n.ID]
	rcv.mu.Unlock()
	if attempts != 3 {
		t.Fatalf("delivered after %d attempts, want 3", attempts)
	}
	eventually(t, "delivery record", func() bool { d, ok := deliveryOf(w.srv, uemapi.NotifyKey); return ok && d.Status == DeliveryDelivered })
	if d, _ := deliveryOf(w.srv, uemapi.NotifyKey); d.Attempts != 3 {
		t.Fatalf("delivery %+v", d)
	}
}

func TestNotify_FailureShowsErrors_ENT01(t *testing.T) {
	w, rcv := notifyWorld(t, 2)
	rcv.mu.Lock()
	rcv.failNext = 1000
	rcv.mu.Unlock()
	cfg := w.gw.Config
	cfg.Timeouts.ServerConnectMs = 5000
	must[GatewayEntry](t)(w.srv.SetGatewayConfig("gw1", cfg))
	eventually(t, "entry status Error", func() bool { return must[GatewayEntry](t)(w.srv.Gateway("gw1")).Status == "Error" })
	g := must[GatewayEntry](t)(w.srv.Gateway("gw1"))
	if len(g.Errors) != 1 || g.Errors[0].Type != string(uemapi.NotifyConfig) {
		t.Fatalf("View Errors: %+v", g.Errors)
	}
	// A re-save once the gateway is back re-sends and clears the status.
	rcv.mu.Lock()
	rcv.failNext = 0
	rcv.mu.Unlock()
	must[GatewayEntry](t)(w.srv.SetGatewayConfig("gw1", cfg))
	eventually(t, "entry status Success", func() bool { return must[GatewayEntry](t)(w.srv.Gateway("gw1")).Status == "Success" })
}

func TestNotify_NotSentToDisabledEntry_ENT03(t *testing.T) {
	w, rcv := notifyWorld(t, 3)
	seedUsers(t, w.srv)
	d := report(t, w, "EAS-ALICE", "alice@corp.example")
	must[GatewayEntry](t)(w.srv.SetGatewayEnabled("gw1", false))
	_, err := w.srv.SetGatewayEnabled("gw1", false)
	mustCode(t, err, uemapi.CodeActionNotAllowed) // Disable is offered only when enabled
	must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActBlock}))
	eventually(t, "discarded delivery", func() bool {
		dl, ok := deliveryOf(w.srv, uemapi.NotifyDeviceState)
		return ok && dl.Status == DeliveryDisabled
	})
	if got := rcv.received(); len(got) != 0 {
		t.Fatalf("disabled entry received %+v", got)
	}
	// The gateway keeps serving while disabled (ENT-03).
	if dec := report(t, w, "EAS-ALICE", "alice@corp.example"); dec.State != uemapi.StateBlocked {
		t.Fatalf("report while disabled: %s", dec.State)
	}
	// ENT-04: edits while disabled are pending and pushed on Enable.
	cfg := w.gw.Config
	cfg.ActiveSync.Redirect451 = false
	g := must[GatewayEntry](t)(w.srv.SetGatewayConfig("gw1", cfg))
	if !g.PendingChanges || g.Status != "Pending" {
		t.Fatalf("pending: %+v", g)
	}
	must[GatewayEntry](t)(w.srv.SetGatewayEnabled("gw1", true))
	eventually(t, "config.changed after enable", func() bool { _, ok := rcv.find(uemapi.NotifyConfig); return ok })
	if n, _ := rcv.find(uemapi.NotifyConfig); n.Config.Version != g.ConfigVersion {
		t.Fatalf("config version %d, want %d", n.Config.Version, g.ConfigVersion)
	}
}

func TestNotify_PolicyPurgeAndTunnel(t *testing.T) {
	w, rcv := notifyWorld(t, 3)
	seedUsers(t, w.srv)
	d := report(t, w, "EAS-ALICE", "alice@corp.example")
	pol := must[uemapi.ActiveSyncPolicy](t)(w.srv.CreatePolicy(uemapi.NewPolicy("Execs")))
	must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActAssignPolicy, PolicyID: pol.ID}))
	pol.MinPasswordLength = 8
	must[uemapi.ActiveSyncPolicy](t)(w.srv.UpdatePolicy(pol.ID, pol))
	// FLOW-09: the changed policy goes with the devices it applies to.
	eventually(t, "policy.changed", func() bool { _, ok := rcv.find(uemapi.NotifyPolicy); return ok })
	n, _ := rcv.find(uemapi.NotifyPolicy)
	if n.Policy.Policy.MinPasswordLength != 8 || n.Policy.Policy.Version != 2 || len(n.Policy.Devices) != 1 || n.Policy.Devices[0].EASDeviceID != "EAS-ALICE" {
		t.Fatalf("policy notification %+v", n.Policy)
	}
	tun := must[*uemapi.AppTunnel](t)(w.client.ReportAppTunnel(context.Background(), uemapi.AppTunnelReport{AppID: "app", User: "alice@corp.example", DeviceUUID: "dev-alice", Version: uemapi.TunnelV1}))
	must[uemapi.AppTunnel](t)(w.srv.ActOnTunnel(tun.ID, TunnelAction{Action: "remove"}))
	must[Association](t)(w.srv.Act(d.AssociationID, Action{Action: ActRemove}))
	eventually(t, "purge and tunnel notifications", func() bool {
		_, p := rcv.find(uemapi.NotifyPurge)
		_, a := rcv.find(uemapi.NotifyAppTunnel)
		return p && a
	})
	p, _ := rcv.find(uemapi.NotifyPurge)
	a, _ := rcv.find(uemapi.NotifyAppTunnel)
	if p.Purge.AssociationID != d.AssociationID || !a.AppTunnel.Removed || a.AppTunnel.Tunnel.ID != tun.ID {
		t.Fatalf("purge %+v tunnel %+v", p.Purge, a.AppTunnel)
	}
	// Notifications to one gateway arrive in order.
	var order []uemapi.NotificationType
	for _, n := range rcv.received() {
		order = append(order, n.Type)
	}
	if order[len(order)-1] != uemapi.NotifyPurge {
		t.Fatalf("order %v", order)
	}
}

func TestNotify_ReceiverRejectsWrongSecret(t *testing.T) {
	rcv := newReceiver(t)
	srv := startUEM(t, Config{Notify: NotifyConfig{Attempts: 1, HTTPClient: rcv.ts.Client()}})
	must[GatewayEntry](t)(srv.AddGateway(GatewayEntry{ID: "gw1", Host: "127.0.0.1", Enabled: true,
		NotifySecret: []byte("some-other-secret-xxxxxxxxxxxx"), NotificationURL: rcv.ts.URL}))
	srv.RegenerateKey()
	eventually(t, "failed delivery", func() bool { d, ok := deliveryOf(srv, uemapi.NotifyKey); return ok && d.Status == DeliveryFailed })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.rejected != 1 || len(rcv.got) != 0 {
		t.Fatalf("rejected %d accepted %d", rcv.rejected, len(rcv.got))
	}
}

func TestShutdownStopsWorkers(t *testing.T) {
	srv, err := New(Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err == nil {
		t.Fatal("second Start succeeded")
	}
	url := srv.GatewayURL()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	c, _ := uemapi.NewClient(url, testToken, uemapi.WithHTTPClient(trustingClient(srv)))
	if _, err := c.Connectivity(context.Background()); err == nil {
		t.Fatal("served after Shutdown")
	}
}

// A policy change over many devices is split so that every notification
// fits the receivers' body limit (uemapi.MaxNotificationBody) and holds at
// most 1,000 devices; together they name every device once.
func TestNotify_PolicyChangeSplitToFitTheBodyLimit(t *testing.T) {
	w, rcv := notifyWorld(t, 3)
	if err := w.srv.Generate(Generate{Devices: 2500, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	pol := must[uemapi.ActiveSyncPolicy](t)(w.srv.CreatePolicy(uemapi.NewPolicy("Everyone")))
	w.srv.st.mu.Lock()
	for _, a := range w.srv.st.assocs {
		if a != nil {
			a.rw().policyID = pol.ID
		}
	}
	w.srv.st.mu.Unlock()
	pol.MinPasswordLength = 6
	must[uemapi.ActiveSyncPolicy](t)(w.srv.UpdatePolicy(pol.ID, pol))
	devices := func() (n, chunks int) {
		for _, m := range rcv.received() {
			if m.Type == uemapi.NotifyPolicy {
				n, chunks = n+len(m.Policy.Devices), chunks+1
			}
		}
		return n, chunks
	}
	eventually(t, "every device's policy.changed", func() bool { n, _ := devices(); return n == 2500 })
	if _, chunks := devices(); chunks != 3 {
		t.Fatalf("%d notifications for 2,500 devices, want 3", chunks)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.rejected != 0 {
		t.Fatalf("%d notifications refused by the receiver (too large?)", rcv.rejected)
	}
}

// A gateway entry's notification secret is at least 16 bytes: gateways
// refuse a shorter one (issue 18).
func TestNotify_ShortSecretRefused(t *testing.T) {
	srv := startUEM(t, Config{})
	_, err := srv.AddGateway(GatewayEntry{ID: "gw1", Host: "127.0.0.1", Token: testToken, NotifySecret: []byte("short")})
	var e *uemapi.Error
	if !errors.As(err, &e) || e.Field != "notify_secret" {
		t.Fatalf("short secret: %v, want invalid_field notify_secret", err)
	}
}
