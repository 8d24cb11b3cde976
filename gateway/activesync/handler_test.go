package activesync

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// upstreamServer is a minimal ActiveSync server: it answers Provision in two
// phases with its own policy and records what reached it.
//
// Like Exchange it logs users on with Basic credentials (any user,
// password "secret") and answers OPTIONS, the gateway's credential probe
// for new devices, which it counts apart.
type upstreamServer struct {
	mu     sync.Mutex
	hits   []string // commands that reached the server
	auths  []string
	probes int
}

func (u *upstreamServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		u.mu.Lock()
		u.probes++
		u.mu.Unlock()
	}
	if _, pw, ok := r.BasicAuth(); !ok || pw != "secret" {
		w.Header().Set("WWW-Authenticate", `Basic realm="upstream"`)
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodOptions {
		w.Header().Set(eas.HeaderProtocolVersions, "14.1,16.1")
		return
	}
	q, _ := eas.ParseQuery(r.URL.RawQuery)
	u.mu.Lock()
	u.hits = append(u.hits, string(q.Cmd))
	u.auths = append(u.auths, r.Header.Get("Authorization"))
	u.mu.Unlock()
	if q.Cmd != eas.CmdProvision {
		w.Header().Set("Content-Type", eas.ContentTypeWBXML)
		writeStatus(w, q.Cmd, eas.StatusSuccess)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req eas.ProvisionRequest
	_ = wbxml.UnmarshalStruct(body, &req, wbxml.Limits{})
	eight := "8"
	yes := true
	resp := &eas.ProvisionResponse{Status: 1, Policies: []eas.PolicyResponse{{PolicyType: eas.PolicyTypeWBXML, Status: 1, PolicyKey: "1111",
		Data: &eas.PolicyData{EASProvisionDoc: &eas.EASProvisionDoc{DevicePasswordEnabled: &yes, MinDevicePasswordLength: &eight}}}}}
	if len(req.Policies) > 0 && req.Policies[0].PolicyKey != "" {
		resp = &eas.ProvisionResponse{Status: 1, Policies: []eas.PolicyResponse{{PolicyType: eas.PolicyTypeWBXML, Status: 1, PolicyKey: "2222"}}}
	}
	_ = writeWBXML(w, resp)
}

func (u *upstreamServer) probeCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.probes
}

func (u *upstreamServer) commands() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.hits...)
}

type rig struct {
	uem     *uemsynctest.FakeUEM
	link    *uemsync.Link
	cache   *devicecache.Cache
	stats   *stats.Registry
	audit   *syncBuffer
	up      *upstreamServer
	srv     *httptest.Server
	handler *Handler
}

// newRig builds a gateway handler in front of an upstreamServer; wrap, if
// given, stands between the two (to alter what the server answers).
func newRig(t *testing.T, wrap ...func(http.Handler) http.Handler) *rig {
	t.Helper()
	r := &rig{uem: uemsynctest.New(), cache: devicecache.New(nil), stats: stats.NewRegistry(), audit: &syncBuffer{}, up: &upstreamServer{}}
	var err error
	r.link, err = uemsync.New(uemsync.Config{UEM: r.uem, Cache: r.cache, FailOpen: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var up http.Handler = r.up
	for _, w := range wrap {
		up = w(up)
	}
	upSrv := httptest.NewTLSServer(up)
	t.Cleanup(upSrv.Close)
	upURL, _ := url.Parse(upSrv.URL)
	h, err := New(Config{Upstream: upURL, Transport: upSrv.Client().Transport, Link: r.link, Cache: r.cache,
		Stats: r.stats, Audit: audit.New(r.audit, "gw", nil), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r.handler = h
	r.srv = httptest.NewTLSServer(h)
	t.Cleanup(r.srv.Close)
	return r
}

// send posts a command as device dev of alice with protocol version v and
// returns the status code and the decoded WBXML body (nil if none).
func (r *rig) send(t *testing.T, dev string, cmd eas.Command, v string, body []byte) (int, *wbxml.Node) {
	t.Helper()
	q := &eas.Query{Cmd: cmd, User: "alice", DeviceID: dev, DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	req.SetBasicAuth("alice", "secret")
	req.Header.Set(eas.HeaderProtocolVersion, v)
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if len(b) == 0 || resp.Header.Get("Content-Type") != eas.ContentTypeWBXML {
		return resp.StatusCode, nil
	}
	d, err := wbxml.Parse(b, wbxml.Limits{})
	if err != nil {
		t.Fatalf("%s response is not WBXML: %v", cmd, err)
	}
	return resp.StatusCode, d.Root
}

func statusOf(n *wbxml.Node) string {
	for _, c := range n.Children {
		if c.Tag.Name() == "Status" {
			return c.Text()
		}
	}
	return ""
}

func provisionBody(t *testing.T, key string, ack bool) []byte {
	req := &eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}}
	if ack {
		req.Policies[0].PolicyKey, req.Policies[0].Status = key, 1
	}
	b, err := wbxml.MarshalStruct(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlockedDeviceIsToldAsExchangeWould(t *testing.T) {
	// DEF-08: Status 129 for 14.0 and later, HTTP 403 for 12.1; the server is not reached.
	r := newRig(t)
	r.uem.Set("BLK", "alice", uemapi.StateBlocked, "")
	code, body := r.send(t, "BLK", eas.CmdSync, "14.1", nil)
	if code != http.StatusOK || body == nil || body.Tag.String() != "AirSync:Sync" || statusOf(body) != "129" {
		t.Fatalf("14.1 blocked: %d %v", code, body)
	}
	if code, _ := r.send(t, "BLK", eas.CmdFolderSync, "12.1", nil); code != http.StatusForbidden {
		t.Fatalf("12.1 blocked: %d", code)
	}
	if code, body := r.send(t, "BLK", eas.CmdPing, "16.1", nil); code != 200 || body.Tag.String() != "Ping:Ping" || statusOf(body) != "129" {
		t.Fatalf("16.1 Ping blocked: %d %v", code, body)
	}
	if len(r.up.commands()) != 0 {
		t.Fatalf("blocked requests reached the server: %v", r.up.commands())
	}
	d, _ := r.stats.Lookup("BLK", "alice")
	if d.Get(stats.Blocks) != 3 || d.Get(stats.DHTTPRequests) != 3 || d.Get(stats.SHTTPRequests) != 0 {
		t.Fatalf("counters blocks=%d d-req=%d s-req=%d", d.Get(stats.Blocks), d.Get(stats.DHTTPRequests), d.Get(stats.SHTTPRequests))
	}
	gomega.NewWithT(t).Eventually(r.audit.String).WithTimeout(20*time.Second).Should(gomega.ContainSubstring(`"action":"BLOCK"`), "audit BLOCK entry")
}

func TestAllowedDeviceIsRelayedWithItsCredentials(t *testing.T) {
	// FLOW-01, Pass Through authentication: the Authorization header reaches the server.
	r := newRig(t)
	code, body := r.send(t, "OK1", eas.CmdFolderSync, "14.1", nil)
	if code != http.StatusOK || statusOf(body) != "1" {
		t.Fatalf("relayed FolderSync: %d %v", code, body)
	}
	if got := r.up.commands(); len(got) != 1 || got[0] != "FolderSync" {
		t.Fatalf("server saw %v", got)
	}
	if !strings.HasPrefix(r.up.auths[0], "Basic ") {
		t.Fatalf("Authorization not passed through: %q", r.up.auths[0])
	}
	e, ok := r.cache.Get(devicecache.Key{DeviceID: "OK1", User: "alice"})
	if !ok || e.State != devicecache.Allowed || e.Connections != 1 || e.ProtocolVersion != "14.1" {
		t.Fatalf("cache entry %+v", e)
	}
	// The RESPONSE entry is written once the answer has gone out.
	gomega.NewWithT(t).Eventually(r.audit.String).WithTimeout(20*time.Second).Should(gomega.ContainSubstring(`"httpStatus":"200"`), "audit RESPONSE entry")
	if strings.Count(r.audit.String(), "SENTRY_AUDIT") != 2 {
		t.Fatalf("audit:\n%s", r.audit.String())
	}
}

func TestAssignedPolicyReplacesTheServers(t *testing.T) {
	// Issue 5 / DEF-09: 144 (or 449) until the device provisions, the UEM's
	// policy in place of the server's, and P becomes A on acknowledgement.
	r := newRig(t)
	r.uem.PutPolicy(&uemapi.ActiveSyncPolicy{ID: "exec", Version: 1, PasswordRequired: true, MinPasswordLength: 12, PasswordType: uemapi.PasswordAlphanumeric, MinComplexChars: 3})
	r.uem.Set("POL", "alice", uemapi.StateAllowed, "exec")
	key := devicecache.Key{DeviceID: "POL", User: "alice"}
	r.link.Access(context.Background(), uemsync.DeviceRequest{DeviceID: "POL", User: "alice"})
	r.link.Apply(&uemapi.Notification{ID: "1", Type: uemapi.NotifyPolicy, Policy: &uemapi.PolicyChange{
		Policy:  uemapi.ActiveSyncPolicy{ID: "exec", Version: 2, PasswordRequired: true, MinPasswordLength: 12, PasswordType: uemapi.PasswordAlphanumeric, MinComplexChars: 3},
		Devices: []uemapi.DeviceRef{{EASDeviceID: "POL", User: "alice"}}}})

	if code, body := r.send(t, "POL", eas.CmdSync, "14.1", nil); code != 200 || statusOf(body) != "144" {
		t.Fatalf("policy pending Sync at 14.1: %d %v", code, body)
	}
	if code, _ := r.send(t, "POL", eas.CmdSync, "12.1", nil); code != eas.HTTPRetryWith {
		t.Fatalf("policy pending Sync at 12.1: %d", code)
	}
	_, body := r.send(t, "POL", eas.CmdProvision, "14.1", provisionBody(t, "", false))
	var pr eas.ProvisionResponse
	if err := wbxml.NodeToStruct(body, &pr); err != nil {
		t.Fatal(err)
	}
	doc := pr.Policies[0].Data.EASProvisionDoc
	if doc.MinDevicePasswordLength == nil || *doc.MinDevicePasswordLength != "12" || doc.AlphanumericDevicePasswordRequired == nil || !*doc.AlphanumericDevicePasswordRequired {
		t.Fatalf("device got %+v, want the UEM policy", doc)
	}
	if pr.Policies[0].PolicyKey != "1111" {
		t.Fatalf("server policy key not kept: %q", pr.Policies[0].PolicyKey)
	}
	if st, _, _ := r.cache.State(key); st != devicecache.PolicyPending {
		t.Fatalf("state %v before acknowledgement", st)
	}
	r.send(t, "POL", eas.CmdProvision, "14.1", provisionBody(t, "1111", true))
	if st, _, _ := r.cache.State(key); st != devicecache.Allowed {
		t.Fatalf("state %v after acknowledgement, want A", st)
	}
	if code, body := r.send(t, "POL", eas.CmdSync, "14.1", nil); code != 200 || statusOf(body) != "1" {
		t.Fatalf("Sync after provisioning: %d %v", code, body)
	}
}

func TestDefaultPolicyBehaviour(t *testing.T) {
	// PREF-09 / DEF-02: Apply passes the server's policy; Remove sends none.
	for _, tc := range []struct {
		behavior uemapi.PolicyBehavior
		wantLen  string
	}{{uemapi.PolicyApplyServer, "8"}, {uemapi.PolicyRemoveServer, ""}} {
		t.Run(string(tc.behavior), func(t *testing.T) {
			r := newRig(t)
			r.uem.SetDefaultBehavior(tc.behavior)
			r.uem.Set("DEF", "alice", uemapi.StateAllowed, "")
			_, body := r.send(t, "DEF", eas.CmdProvision, "14.1", provisionBody(t, "", false))
			var pr eas.ProvisionResponse
			if err := wbxml.NodeToStruct(body, &pr); err != nil {
				t.Fatal(err)
			}
			doc := pr.Policies[0].Data.EASProvisionDoc
			got := ""
			if doc.MinDevicePasswordLength != nil {
				got = *doc.MinDevicePasswordLength
			}
			if got != tc.wantLen || (tc.behavior == uemapi.PolicyRemoveServer && *doc.DevicePasswordEnabled) {
				t.Fatalf("min length %q, password enabled %v", got, *doc.DevicePasswordEnabled)
			}
		})
	}
}

func TestFailOpenDeviceGetsTheServerPolicy(t *testing.T) {
	// INC-01: allowed while the UEM is down, with the ActiveSync server's policy.
	r := newRig(t)
	r.link.SetDefaultBehavior(uemapi.PolicyRemoveServer) // must not apply to an unvalidated device
	r.uem.SetDown(true)
	_, body := r.send(t, "FO", eas.CmdProvision, "14.1", provisionBody(t, "", false))
	var pr eas.ProvisionResponse
	if err := wbxml.NodeToStruct(body, &pr); err != nil {
		t.Fatal(err)
	}
	if d := pr.Policies[0].Data.EASProvisionDoc; d.MinDevicePasswordLength == nil || *d.MinDevicePasswordLength != "8" {
		t.Fatalf("fail-open device did not get the server policy: %+v", d)
	}
}

func TestWipeDeliveredOnProvisionThenBlocked(t *testing.T) {
	// ACT-05..07, DEF-09: W → 142 → RemoteWipe in Provision → ack → wiped, reported, blocked.
	r := newRig(t)
	r.uem.Set("WIPE", "alice", uemapi.StateAllowed, "")
	r.send(t, "WIPE", eas.CmdFolderSync, "16.1", nil)
	r.link.Apply(&uemapi.Notification{ID: "w", Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{EASDeviceID: "WIPE", User: "alice", State: uemapi.StateWiped}})
	if code, body := r.send(t, "WIPE", eas.CmdSync, "16.1", nil); code != 200 || statusOf(body) != "142" {
		t.Fatalf("wipe pending Sync: %d %v", code, body)
	}
	_, body := r.send(t, "WIPE", eas.CmdProvision, "16.1", provisionBody(t, "", false))
	var pr eas.ProvisionResponse
	if err := wbxml.NodeToStruct(body, &pr); err != nil || !pr.RemoteWipe {
		t.Fatalf("Provision did not carry RemoteWipe: %+v %v", pr, err)
	}
	ack, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{RemoteWipe: &eas.WipeAck{Status: 1}})
	r.send(t, "WIPE", eas.CmdProvision, "16.1", ack)
	if acks := r.uem.Acks(); len(acks) != 1 || acks[0].EASDeviceID != "WIPE" {
		t.Fatalf("UEM acks %+v", acks)
	}
	if code, body := r.send(t, "WIPE", eas.CmdSync, "16.1", nil); code != 200 || statusOf(body) != "129" {
		t.Fatalf("wiped device Sync: %d %v", code, body)
	}
	for _, c := range r.up.commands() {
		if c == "Provision" {
			t.Fatal("the wipe Provision was sent to the server")
		}
	}
}

func TestMalformedRequestsAreRefused(t *testing.T) {
	r := newRig(t)
	for _, path := range []string{
		"/Microsoft-Server-ActiveSync?Cmd=Sync&User=a&DeviceType=x",             // no DeviceId
		"/Microsoft-Server-ActiveSync?Cmd=Bogus&User=a&DeviceId=D&DeviceType=x", // unknown command
	} {
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+path, nil)
		req.Header.Set(eas.HeaderProtocolVersion, "14.1")
		resp, err := r.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, resp.StatusCode)
		}
	}
	if len(r.up.commands()) != 0 || r.cache.Len() != 0 {
		t.Fatal("a malformed request reached the server or the cache")
	}
}

// syncBuffer is an audit sink the test can read while handlers write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

func TestAuditNamesTheDeviceAndUser(t *testing.T) {
	r := newRig(t)
	if code, _ := r.send(t, "AUD1", eas.CmdFolderSync, "14.1", nil); code != http.StatusOK {
		t.Fatalf("FolderSync: %d", code)
	}
	// The RESPONSE entry is written once the answer has gone out.
	gomega.NewWithT(t).Eventually(r.audit.String).WithTimeout(20*time.Second).Should(gomega.ContainSubstring(`"httpStatus":"200"`), "audit RESPONSE entry")
	for _, want := range []string{`"deviceId":"AUD1"`, `"userId":"alice"`, `"deviceType":"iPhone"`, `"action":"ALLOW"`, `"requestUrl":"/Microsoft-Server-ActiveSync"`, `"httpMethod":"POST"`} {
		if !strings.Contains(r.audit.String(), want) {
			t.Errorf("audit lacks %s:\n%s", want, r.audit.String())
		}
	}
}

func TestOptionsIsRelayedAndOtherMethodsRefused(t *testing.T) {
	// MS-ASHTTP: a device asks OPTIONS for the protocol versions; the
	// gateway relays it. Anything but OPTIONS and POST is 405.
	r := newRig(t)
	req, _ := http.NewRequest(http.MethodOptions, r.srv.URL+"/Microsoft-Server-ActiveSync", nil)
	req.SetBasicAuth("alice", "secret")
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get(eas.HeaderProtocolVersions) == "" {
		t.Fatalf("OPTIONS: %d, versions %q", resp.StatusCode, resp.Header.Get(eas.HeaderProtocolVersions))
	}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, r.srv.URL+"/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=D1&DeviceType=iPhone", nil)
		req.SetBasicAuth("alice", "secret")
		resp, err := r.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "OPTIONS, POST" {
			t.Errorf("%s: %d, Allow %q; want 405 and OPTIONS, POST", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if got := r.up.commands(); len(got) != 0 {
		t.Fatalf("server saw commands %v", got)
	}
}
