package gateway_test

// End-to-end tests of the assembled gateway against the fake UEM over
// HTTPS on loopback. The gateway's own code never imports a fake; only
// this test does, as a driver would.

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/internal/testca"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestFirstAccessBlockByNotificationAndRemove(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// FLOW-01: reported, associated, allowed, relayed to Exchange.
	w.provision("ALICEPHONE", "alice")
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != 200 || st != "1" {
		t.Fatalf("first access: %d %q", code, st)
	}
	a := w.association("ALICEPHONE", "alice")
	if a["sync_status"] != "Allowed" || a["registered"] != true || a["domain"] != "gw1" {
		t.Fatalf("UEM association %v", a)
	}
	// ACT-03 + notification: blocked at once, told with 129 (DEF-08).
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "block", "note": "lost phone"}, nil)
	gomega.NewWithT(t).Eventually(func() bool {
		_, st := w.device("ALICEPHONE", "alice", eas.CmdSync)
		return st == "129"
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "block notification")
	rows, err := w.adm.ByDevice(ctx, "ALICEPHONE")
	if err != nil || len(rows) != 1 || rows[0].State != "B" || rows[0].Validated != "Y" {
		t.Fatalf("gateway cache %+v %v", rows, err)
	}
	// ACT-10/11: Remove; the next access is a first access decided by policy again.
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "remove", "note": "found"}, nil)
	gomega.NewWithT(t).Eventually(func() bool {
		rows, _ := w.adm.ByDevice(ctx, "ALICEPHONE")
		return len(rows) == 0
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "purge notification")
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != 200 || st != "1" {
		t.Fatalf("after Remove: %d %q", code, st)
	}
}

func TestFailOpenAndReconnectAndRestartWithUEMDown(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// A device the UEM blocks (unregistered + auto-block is off, so block it by hand).
	w.provision("BOBPHONE", "bob")
	a := w.association("BOBPHONE", "bob")
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "block", "note": "n"}, nil)
	gomega.NewWithT(t).Eventually(func() bool { _, st := w.device("BOBPHONE", "bob", eas.CmdSync); return st == "129" }).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "bob blocked")

	// FLOW-05 / FO-01: UEM down, a new device is let in, not validated.
	w.setFaults(uem.Faults{Down: true})
	w.provision("NEWPHONE", "alice") // relayed: the server's own policy (INC-01)
	if code, st := w.device("NEWPHONE", "alice", eas.CmdFolderSync); code != 200 || st != "1" {
		t.Fatalf("fail-open first access: %d %q", code, st)
	}
	pending, _ := w.adm.ValidationPending(ctx, true)
	if len(pending) != 1 || pending[0].DeviceID != "NEWPHONE" {
		t.Fatalf("validation pending %+v", pending)
	}
	// FO-04: fail-closed blocks the next new device.
	if _, err := w.adm.SetFailOpen(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, st := w.device("OTHERPHONE", "alice", eas.CmdSync); st != "129" {
		t.Fatalf("fail-closed new device got %q", st)
	}
	st, _ := w.adm.Verify(ctx)
	if st.Connected {
		t.Fatal("status says connected while the UEM is down")
	}
	// DC-06: back; the fail-open device is reported and validated.
	w.setFaults(uem.Faults{})
	if st, _ := w.adm.Verify(ctx); !st.Connected {
		t.Fatal("not connected after the UEM came back")
	}
	if rows, _ := w.adm.ByDevice(ctx, "NEWPHONE"); len(rows) != 1 || rows[0].Validated != "Y" {
		t.Fatalf("NEWPHONE after reconnect %+v", rows)
	}
	w.association("NEWPHONE", "alice") // the UEM now knows it

	// DC-02/DC-03: restart with the UEM down: the blocked device stays blocked.
	// The fail-open switch survives restarts (local-config.xml): put it back.
	if _, err := w.adm.SetFailOpen(ctx, true); err != nil {
		t.Fatal(err)
	}
	w.stopGateway()
	w.setFaults(uem.Faults{Down: true})
	w.startGateway(false)
	if code, st := w.device("BOBPHONE", "bob", eas.CmdSync); st != "129" {
		t.Fatalf("known-blocked device after restart with the UEM down: %d %q", code, st)
	}
	w.provision("ALICEPHONE", "alice")
	if _, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); st != "1" {
		t.Fatal("a new device was not let in by fail-open after a restart with the UEM down")
	}
}

func TestAssignedPolicyAndPolicyChangeReProvision(t *testing.T) {
	// ACT-13, FLOW-09, DEF-09: the UEM's policy replaces Exchange's; a change forces a new Provision.
	w := newWorld(t)
	doc, _ := w.provision("ALICEPHONE", "alice")
	if doc.MinDevicePasswordLength == nil || *doc.MinDevicePasswordLength != "4" {
		t.Fatalf("before any assignment the device should get Exchange's policy (Apply, DEF-02): %+v", doc.MinDevicePasswordLength)
	}
	var pol uemapi.ActiveSyncPolicy
	w.uemAdmin(http.MethodPost, "/policies", map[string]any{"name": "Executives", "password_required": true, "min_password_length": 11,
		"password_type": "alphanumeric", "min_complex_chars": 2, "max_failed_attempts": 6}, &pol)
	a := w.association("ALICEPHONE", "alice")
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "assign_policy", "policy_id": pol.ID, "note": "vip"}, nil)
	gomega.NewWithT(t).Eventually(func() bool {
		_, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
		return st == "144"
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "Status 144 after the assignment")
	doc, _ = w.provision("ALICEPHONE", "alice")
	if doc.MinDevicePasswordLength == nil || *doc.MinDevicePasswordLength != "11" || doc.AlphanumericDevicePasswordRequired == nil || !*doc.AlphanumericDevicePasswordRequired {
		t.Fatalf("device got %+v, want the Executives policy", doc)
	}
	if _, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); st != "1" {
		t.Fatalf("after provisioning the new policy FolderSync got %q", st)
	}
	// A change to the policy itself re-provisions too.
	w.uemAdmin(http.MethodPut, "/policies/"+pol.ID, map[string]any{"min_password_length": 14}, nil)
	gomega.NewWithT(t).Eventually(func() bool {
		_, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
		return st == "144"
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "Status 144 after the policy change")
	if doc, _ = w.provision("ALICEPHONE", "alice"); *doc.MinDevicePasswordLength != "14" {
		t.Fatalf("changed policy not delivered: %s", *doc.MinDevicePasswordLength)
	}
}

func TestDefaultPolicyBehaviourRemove(t *testing.T) {
	// PREF-09: "Remove AS server policy" sends no restrictions.
	w := newWorld(t)
	w.uemAdmin(http.MethodPut, "/preferences", map[string]any{"default_policy_behavior": "remove_server_policy"}, nil)
	gomega.NewWithT(t).Eventually(func() bool {
		doc, _ := w.provision("BOBPHONE", "bob")
		return doc.DevicePasswordEnabled != nil && !*doc.DevicePasswordEnabled && doc.MinDevicePasswordLength == nil
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "configuration with the new behaviour")
}

func TestWipeEndToEnd(t *testing.T) {
	// ACT-05..07: wipe ordered in the UEM, delivered on the device's next
	// Provision, acknowledged, reported, and the device stays blocked.
	w := newWorld(t)
	w.provision("ALICEPHONE", "alice")
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	a := w.association("ALICEPHONE", "alice")
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "wipe", "note": "stolen"}, nil)
	gomega.NewWithT(t).Eventually(func() bool {
		_, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
		return st == "142"
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "Status 142 for the pending wipe")
	if _, wiped := w.provision("ALICEPHONE", "alice"); !wiped {
		t.Fatal("Provision did not carry RemoteWipe")
	}
	gomega.NewWithT(t).Eventually(func() bool {
		return w.association("ALICEPHONE", "alice")["wipe_acknowledged"] != nil
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "wipe acknowledged in the UEM")
	if _, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); st != "129" {
		t.Fatalf("wiped device got %q, want 129", st)
	}
	rows, _ := w.adm.ByDevice(context.Background(), "ALICEPHONE")
	if len(rows) != 1 || !rows[0].Wiped || rows[0].State != "B" {
		t.Fatalf("cache after wipe %+v", rows)
	}
}

func TestDroppedNotificationRepairedByResync(t *testing.T) {
	// FLOW-13: a block whose notification is lost arrives with the next resync.
	w := newWorld(t, func(w *world) { w.resync = 300 * time.Millisecond })
	w.provision("ALICEPHONE", "alice")
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	w.setFaults(uem.Faults{DropNotifications: true})
	a := w.association("ALICEPHONE", "alice")
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "block", "note": "n"}, nil)
	// The UEM sends (here: drops) the notification after answering the
	// action: wait for its record rather than read it at once (it was
	// not there yet in a -race run at load 47).
	gomega.NewWithT(t).Eventually(func() any {
		var deliveries []map[string]any
		w.uemAdmin(http.MethodGet, "/notifications", nil, &deliveries)
		if len(deliveries) == 0 {
			return nil
		}
		return deliveries[len(deliveries)-1]["status"]
	}).WithTimeout(20*time.Second).Should(gomega.Equal("dropped"), "the block notification dropped")
	gomega.NewWithT(t).Eventually(func() bool {
		_, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
		return st == "129"
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "block applied by resync")
}

func TestIdentityCertificateNamesTheUser(t *testing.T) {
	// DA-03, DA-11 (issue 11): the certificate's UPN becomes the user of
	// the cache entry and of the UEM association; no certificate, no entry.
	caCert := testca.New(t, "Device CA", time.Now(), nil)
	caPEM := caCert.PEM()
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: caPEM,
				FieldMapping: []uemapi.FieldMapping{{Target: "user_upn", Field: "rfc822_name"}}}
		}
	})
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != http.StatusForbidden {
		t.Fatalf("no client certificate: HTTP %d, want 403", code)
	}
	w.dev = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // test gateway certificate
		Certificates:       []tls.Certificate{caCert.Client(t, "alice@corp.example", "alice@corp.example")},
	}}}
	w.provision("ALICEPHONE", "alice")
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != 200 || st != "1" {
		t.Fatalf("with a certificate: %d %q", code, st)
	}
	if rows, _ := w.adm.ByUser(context.Background(), "alice@corp.example"); len(rows) != 1 {
		t.Fatalf("cache rows for the certificate's UPN: %+v", rows)
	}
	// The UEM is told of the certificate's user, normalised (issue 18).
	w.association("ALICEPHONE", "alice")
}

func TestServerStatusAndDiagnosis(t *testing.T) {
	// ASC-13, SVD-01: the UEM's server list is in use and reported.
	w := newWorld(t)
	ctx := context.Background()
	ss, err := w.adm.Servers(ctx)
	if err != nil || len(ss) != 1 || ss[0].Name != "default" || len(ss[0].Servers) != 1 || ss[0].Servers[0].Address != w.exch.Addr() || !ss[0].Servers[0].Reachable {
		t.Fatalf("server status %+v %v", ss, err)
	}
	d, err := w.adm.VerifyEAS(ctx)
	if err != nil || d.Service != "EAS" || d.Status != "Success" {
		t.Fatalf("EAS diagnosis %+v %v", d, err)
	}
}

func TestHostRoutingAnd451Redirect(t *testing.T) {
	// ASC-01, ASC-03 (Host header selects the service, default otherwise)
	// and RDR (451 followed, remembered, cleared), with two fake Exchanges.
	second := startExchange(t)
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			svc := uemapi.DefaultActiveSyncService(second.Addr())
			svc.Name, svc.ServerTLS = "eas2.corp.example", true
			gc.ActiveSync.Services = append(gc.ActiveSync.Services, svc)
		}
	})
	ctx := context.Background()
	w.host = "eas2.corp.example"
	w.provision("BOBPHONE", "bob")
	if _, st := w.device("BOBPHONE", "bob", eas.CmdFolderSync); st != "1" {
		t.Fatalf("routed FolderSync: %q", st)
	}
	if !partnered(second, "BOBPHONE") || partnered(w.exch, "BOBPHONE") {
		t.Fatal("the Host header did not pick the eas2 service")
	}
	w.host = "unknown.corp.example" // anything else: default
	w.provision("ALICEPHONE", "alice")
	if !partnered(w.exch, "ALICEPHONE") || partnered(second, "ALICEPHONE") {
		t.Fatal("an unknown Host did not fall back to default")
	}

	// alice's mailbox moves: the default server answers 451 to the second.
	if err := w.exch.SetRedirect("alice", second.EASURL()); err != nil {
		t.Fatal(err)
	}
	w.keys["ALICEPHONE"] = ""
	w.provision("ALICEPHONE", "alice") // followed by the gateway, never seen by the device
	if !partnered(second, "ALICEPHONE") {
		t.Fatal("the 451 was not followed to the second server")
	}
	rows, _ := w.adm.ByDevice(ctx, "ALICEPHONE")
	if len(rows) != 1 || rows[0].RedirectURL == "" {
		t.Fatalf("redirect not remembered in the cache: %+v", rows)
	}
	if c, err := w.adm.ClearRedirect(ctx, true, "", ""); err != nil || c.Count != 1 {
		t.Fatalf("clear-redirect-url all: %+v %v", c, err)
	}
}

func TestRoundRobinAndFailoverAcrossFakeExchanges(t *testing.T) {
	// ASC-15 (Round Robin spreads devices over the pool), ASC-11..14 and
	// DEF-01 (a server that stops answering is declared dead after the
	// threshold; its devices fail over without noticing).
	second := startExchange(t)
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.ActiveSync.Services[0].Servers = w.exch.Addr() + ";" + second.Addr()
			gc.ActiveSync.Services[0].HealthCheck.Enabled = false
			gc.Servers = uemapi.ServerManagement{Scheduling: uemapi.ScheduleRoundRobin, DeadThreshold: 2, FailureWindowMs: 60000, DeadTimeMs: 600000}
		}
	})
	ctx := context.Background()
	devices := []string{"RR1", "RR2", "RR3", "RR4"}
	// A new device's first request follows the gateway's check of its
	// credentials (an OPTIONS, issue 18), which takes a turn of its own;
	// its later requests alone show how requests are spread.
	for range 2 {
		for _, d := range devices {
			w.device(d, "alice", eas.CmdFolderSync)
		}
	}
	first, other := 0, 0
	for _, d := range devices {
		if partnered(w.exch, d) {
			first++
		}
		if partnered(second, d) {
			other++
		}
	}
	if first == 0 || other == 0 {
		t.Fatalf("round robin used one server only: %d on the first, %d on the second", first, other)
	}
	// The first server goes away; every device still gets answers.
	if err := w.exch.SetFaults(exchange.Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		for _, d := range devices {
			if code, _ := w.device(d, "alice", eas.CmdFolderSync); code != http.StatusOK {
				t.Fatalf("request %d of %s failed over to nothing: HTTP %d", i, d, code)
			}
		}
	}
	ss, _ := w.adm.Servers(ctx)
	dead := false
	for _, sv := range ss[0].Servers {
		if sv.Address == w.exch.Addr() && !sv.Reachable {
			dead = true
		}
	}
	if !dead {
		t.Fatalf("the stopped server is not declared dead: %+v", ss)
	}
}

func TestTLSSettingsFromTheUEM(t *testing.T) {
	// TLS-01 (oldest protocol towards devices), TLS-13 (HSTS), TLS-04
	// (strict TLS towards the server: an untrusted certificate fails).
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.TLS = uemapi.TLSSettings{IncomingMinVersion: "1.3", HSTS: true}
		}
	})
	addr := strings.TrimPrefix(w.gw.DeviceURL(), "https://")
	dial := func(maxV uint16) error {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: maxV}) //nolint:gosec // test gateway certificate
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(tls.VersionTLS12); err == nil {
		t.Fatal("a TLS 1.2 device was accepted with the minimum at 1.3")
	}
	if err := dial(tls.VersionTLS13); err != nil {
		t.Fatalf("TLS 1.3 refused: %v", err)
	}
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: "alice", DeviceID: "HSTSPHONE", DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
	req.SetBasicAuth("alice", "alice-pw")
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	resp, err := w.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000; includeSubDomains" {
		t.Fatalf("HSTS header %q", got)
	}

	// Strict TLS on, and the fake Exchange's self-signed certificate is
	// in no trust store: the server cannot be reached.
	gc := uemapi.DefaultGatewayConfig()
	gc.ActiveSync.Services = []uemapi.ActiveSyncService{uemapi.DefaultActiveSyncService(w.exch.Addr())}
	gc.ActiveSync.Services[0].ServerTLS = true
	gc.TLS = uemapi.TLSSettings{IncomingMinVersion: "1.3", StrictOutgoing: true}
	w.uemAdmin(http.MethodPut, "/gateways/gw1/config", gc, nil)
	gomega.NewWithT(t).Eventually(func() bool {
		code, _ := w.device("STRICTPHONE", "alice", eas.CmdFolderSync)
		return code == http.StatusBadGateway
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "strict TLS in force")
}

// The admin listener's Prometheus metrics include the live heap, which
// load tests read for what devices cost (the heap in use also counts
// garbage the collector's heap floor lets accumulate).
func TestMetricsExportTheLiveHeap(t *testing.T) {
	w := newWorld(t)
	m, err := w.adm.Metrics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go_gc_heap_live_bytes", "go_gc_cycles_total_gc_cycles_total", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "go_goroutines"} {
		if m[name] <= 0 {
			t.Errorf("metric %s = %v, want > 0", name, m[name])
		}
	}
}
