package gateway_test

// The counters TestSTA01EveryDeclaredCounterCountsOnTraffic leaves to
// traffic of their own (issue 22): UEM decisions, server faults and
// statuses, Kerberos, per-source limits, attachment control. Each test
// here checks the counters pinnedBy gives it.

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// pinnedBy names the test whose traffic increments a counter, for the
// counters the device traffic of TestSTA01EveryDeclaredCounterCountsOnTraffic
// does not reach (the counters it does are not listed).
var pinnedBy = map[stats.Counter]string{
	stats.Pendings: decisions, stats.Wipes: decisions, stats.DHTTP449: decisions,

	stats.SErrConnTimeout: serverFaults, stats.SErrSoTimeout: serverFaults, stats.SErrCmdPingTimeout: serverFaults,
	stats.SErrCmdSyncTimeout: serverFaults, stats.SErrCmdTimeout: serverFaults, stats.SUnclassified: serverFaults,
	stats.SHTTP451Redirects: serverFaults, stats.DHTTP451RedirectDrops: serverFaults, stats.SHTTP451InsecureRefused: serverFaults,
	stats.DHTTP400C2S: serverFaults, stats.DErrSoTimeout: serverFaults, stats.SSoClose: serverFaults,

	stats.KerberosAuthError: kerberosFailure,

	stats.DRateLimited: sourceLimits, stats.DConnRateLimited: sourceLimits,
}

const (
	decisions       = "TestSTA01CountersOnUEMDecisions"
	serverFaults    = "TestSTA01CountersOnServerFaults"
	kerberosFailure = "TestSTA01CountersOnKerberosFailure"
	sourceLimits    = "TestSTA01CountersOnSourceLimits"
)

// send posts one command with the given credentials, protocol version and
// policy key, and returns the HTTP status ("" user: no Authorization).
func (w *world) send(dev, user, pw, version string, cmd eas.Command, key string, body []byte) int {
	w.t.Helper()
	q := &eas.Query{Cmd: cmd, User: user, DeviceID: dev, DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	if pw != "" {
		req.SetBasicAuth(user, pw)
	}
	req.Header.Set(eas.HeaderProtocolVersion, version)
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	if key != "" {
		req.Header.Set(eas.HeaderPolicyKey, key)
	}
	if w.host != "" {
		req.Host = w.host
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// serverStatuses: Exchange answers 401 (a wrong password), 404 and 409
// (the fake's error fault) and 449 (a 12.1 request with a policy key it
// never gave).
func (w *world) serverStatuses(t *testing.T) {
	if code := w.send("ALICEPHONE", "alice", "not-alices-password", "14.1", eas.CmdFolderSync, w.keys["ALICEPHONE"], nil); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password: HTTP %d, want 401", code)
	}
	for _, st := range []int{http.StatusNotFound, http.StatusConflict} {
		if err := w.exch.SetFaults(exchange.Faults{ErrorRate: 1, ErrorStatus: st}); err != nil {
			t.Fatal(err)
		}
		if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != st {
			t.Fatalf("Exchange answering %d: the device got %d", st, code)
		}
	}
	if err := w.exch.SetFaults(exchange.Faults{}); err != nil {
		t.Fatal(err)
	}
	if code := w.send("ALICEPHONE", "alice", "alice-pw", "12.1", eas.CmdFolderSync, "1234", nil); code != eas.HTTPRetryWith {
		t.Fatalf("12.1 FolderSync with a policy key Exchange never gave: HTTP %d, want 449", code)
	}
}

// refusedIdentities: a request for another user than the one that logs
// in (identity-mismatch) and one without credentials (d-unauthenticated).
func (w *world) refusedIdentities(t *testing.T) {
	if code := w.send("ALICEPHONE", "bob", "", "14.1", eas.CmdFolderSync, "", nil); code != http.StatusUnauthorized {
		t.Fatalf("no credentials: HTTP %d, want 401", code)
	}
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: "bob", DeviceID: "ALICEPHONE", DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
	req.SetBasicAuth("alice", "alice-pw")
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	resp, err := w.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("User=bob logged in as alice: HTTP %d, want 400", resp.StatusCode)
	}
}

// The UEM's decisions: a policy assigned makes the device's next requests
// pendings (a 12.1 device gets the gateway's own HTTP 449), a wipe makes
// them wipes.
func TestSTA01CountersOnUEMDecisions(t *testing.T) {
	w := newWorld(t)
	w.provision("ALICEPHONE", "alice")
	var pol uemapi.ActiveSyncPolicy
	w.uemAdmin(http.MethodPost, "/policies", map[string]any{"name": "Executives", "password_required": true, "min_password_length": 11}, &pol)
	a := w.association("ALICEPHONE", "alice")
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "assign_policy", "policy_id": pol.ID, "note": "vip"}, nil)
	gomega.NewWithT(t).Eventually(func() int {
		return w.send("ALICEPHONE", "alice", "alice-pw", "12.1", eas.CmdFolderSync, w.keys["ALICEPHONE"], nil)
	}).WithTimeout(20*time.Second).Should(gomega.Equal(eas.HTTPRetryWith), "the gateway's 449 for the assigned policy")
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "wipe", "note": "stolen"}, nil)
	gomega.NewWithT(t).Eventually(func() uint64 {
		w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
		return w.entry("ALICEPHONE", "alice")["wipes"]
	}).WithTimeout(20*time.Second).ShouldNot(gomega.BeZero(), "wipes")
	w.expectPinned()
}

// sourceLimits: one request a second and one connection a minute from
// loopback; a burst of requests on one connection gets 429, and a second
// connection is closed at once.
func TestSTA01CountersOnSourceLimits(t *testing.T) {
	w := newWorld(t, func(w *world) {
		w.gwBoot = func(c *gateway.Config) {
			c.DeviceLimits.LoopbackRequestsPerSecond, c.DeviceLimits.LoopbackConnectionsPerMinute = 1, 1
		}
	})
	limited := false
	for i := 0; i < 10 && !limited; i++ {
		limited = w.send("ALICEPHONE", "alice", "alice-pw", "14.1", eas.CmdFolderSync, "", nil) == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("10 requests at once from loopback, 1 allowed a second: none got 429")
	}
	w.hc.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodOptions, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync", nil)
	if resp, err := w.hc.Do(req); err == nil {
		resp.Body.Close()
	}
	w.expectPinned()
}

// A Kerberos ticket the gateway may not get (an SPN outside the
// delegation list, as TestKRB02_SPNOutsideTheDelegationListFails):
// kerberos-auth-error.
func TestSTA01CountersOnKerberosFailure(t *testing.T) {
	w, _ := kcdWorld(t, startCorpKDC(t), "http/MAIL.corp.example")
	if code, _ := w.post("ALICEPHONE", "alice", eas.CmdProvision, nil); code != http.StatusBadGateway {
		t.Fatalf("Provision without a ticket: HTTP %d, want 502", code)
	}
	w.expectPinned()
}

// waitFor waits until the global counter name is non-zero.
func (w *world) waitFor(t *testing.T, name string) {
	t.Helper()
	gomega.NewWithT(t).Eventually(func() uint64 { return w.global()[name] }).
		WithTimeout(10*time.Second).ShouldNot(gomega.BeZero(), name)
}
