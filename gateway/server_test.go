package gateway_test

// End-to-end tests of the assembled gateway against the fake UEM over
// HTTPS on loopback. The gateway's own code never imports a fake; only
// this test does, as a driver would.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/internal/selfsigned"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// world is a fake UEM, a stand-in ActiveSync server and a gateway.
type world struct {
	t        *testing.T
	uem      *uem.Server
	upstream *httptest.Server
	gw       *gateway.Server
	dataDir  string
	hc       *http.Client // trusts every test certificate
	adm      *admin.Client
}

const (
	gwToken  = "gw1-token-0123456789"
	gwSecret = "gw1-notify-secret"
)

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, dataDir: t.TempDir()}
	w.hc = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test peers use throwaway certificates
	w.upstream = httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		q, _ := eas.ParseQuery(r.URL.RawQuery)
		root := wbxml.NewElement(wbxml.MustTag("FolderHierarchy:FolderSync"), wbxml.NewText(wbxml.MustTag("FolderHierarchy:Status"), "1"))
		if q.Cmd == eas.CmdSync {
			root = wbxml.NewElement(wbxml.MustTag("AirSync:Sync"), wbxml.NewText(wbxml.MustTag("AirSync:Status"), "1"))
		}
		b, _ := wbxml.Marshal(root)
		rw.Header().Set("Content-Type", eas.ContentTypeWBXML)
		rw.Write(b)
	}))
	t.Cleanup(w.upstream.Close)

	seed := &uem.Seed{
		Users:   []uem.User{{ID: "alice", UPN: "alice@corp.example", Email: "alice@corp.example", MailboxID: "mbx-alice"}, {ID: "bob", UPN: "bob@corp.example", Email: "bob@corp.example", MailboxID: "mbx-bob"}},
		Devices: []uem.Device{{UUID: "dev-alice", UserID: "alice", Platform: "iOS", Model: "iPhone", EASDeviceIDs: []string{"ALICEPHONE"}}},
	}
	// The gateway keeps its certificate in its data directory; make it now
	// so the UEM can trust it for notifications, as an admin would upload it.
	gwCert, err := selfsigned.LoadOrCreate(filepath.Join(w.dataDir, "tls"), "gatehouse gateway", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.uem, err = uem.New(uem.Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Seed: seed, Logger: slog.New(slog.DiscardHandler),
		Notify: uem.NotifyConfig{RootCAs: selfsigned.Pool(gwCert), BaseDelay: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.uem.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.uem.Shutdown(context.Background()) })
	w.startGateway(true)
	return w
}

// startGateway starts a gateway on the world's data directory; register
// creates its entry in the UEM (first start only).
func (w *world) startGateway(register bool) {
	t := w.t
	cfg := gateway.Defaults()
	cfg.Listen, cfg.NotifyListen, cfg.AdminListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = w.dataDir
	cfg.UEM = gateway.UEMConfig{URL: w.uem.GatewayURL(), Token: gwToken, NotifySecret: gwSecret, Insecure: true}
	cfg.UpstreamInsecure = true
	cfg.AdminToken = "admin-token"
	cfg.CheckInterval, cfg.PersistInterval = time.Hour, time.Hour
	gw, err := gateway.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Listen(); err != nil {
		t.Fatal(err)
	}
	if register {
		upHost := strings.TrimPrefix(w.upstream.URL, "https://")
		gc := uemapi.DefaultGatewayConfig()
		gc.ActiveSync.Services = []uemapi.ActiveSyncService{uemapi.DefaultActiveSyncService(upHost)}
		gc.ActiveSync.Services[0].ServerTLS = true
		w.uemAdmin(http.MethodPost, "/gateways", map[string]any{
			"id": "gw1", "host": "127.0.0.1", "port": 9090, "enabled": true, "token": gwToken,
			"notify_secret": []byte(gwSecret), "notification_url": gw.NotifyURL(), "config": gc,
		}, nil)
	}
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.gw = gw
	w.adm = admin.NewClient(gw.AdminURL(), "admin-token", w.hc)
	t.Cleanup(func() { w.stopGateway() })
}

func (w *world) stopGateway() {
	if w.gw != nil {
		w.gw.Shutdown(context.Background())
		w.gw = nil
	}
}

func (w *world) uemAdmin(method, path string, body, out any) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.uem.AdminURL()+"/admin/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+w.uem.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		w.t.Fatalf("UEM admin %s %s: %s %s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			w.t.Fatalf("UEM admin %s: %v", path, err)
		}
	}
}

func (w *world) setFaults(f uem.Faults) {
	if err := w.uem.SetFaults(f); err != nil {
		w.t.Fatal(err)
	}
}

// device sends one command as a 14.1 device and returns the global status
// the device sees ("" when the answer has none) and the HTTP status.
func (w *world) device(dev, user string, cmd eas.Command) (int, string) {
	w.t.Helper()
	q := &eas.Query{Cmd: cmd, User: user, DeviceID: dev, DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
	req.SetBasicAuth(user, "pw")
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	resp, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d, err := wbxml.Parse(b, wbxml.Limits{})
	if err != nil {
		return resp.StatusCode, ""
	}
	for _, c := range d.Root.Children {
		if c.Tag.Name() == "Status" {
			return resp.StatusCode, c.Text()
		}
	}
	return resp.StatusCode, ""
}

func (w *world) association(dev, user string) map[string]any {
	var page struct {
		Items []map[string]any `json:"items"`
	}
	w.uemAdmin(http.MethodGet, fmt.Sprintf("/associations?eas_device_id=%s&user=%s", dev, user), nil, &page)
	if len(page.Items) != 1 {
		w.t.Fatalf("UEM has %d associations for %s/%s", len(page.Items), dev, user)
	}
	return page.Items[0]
}

// eventually polls cond for up to five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestFirstAccessBlockByNotificationAndRemove(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// FLOW-01: reported, associated, allowed, relayed.
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code != 200 || st != "1" {
		t.Fatalf("first access: %d %q", code, st)
	}
	a := w.association("ALICEPHONE", "alice")
	if a["sync_status"] != "Allowed" || a["registered"] != true || a["domain"] != "gw1" {
		t.Fatalf("UEM association %v", a)
	}
	// ACT-03 + notification: blocked at once, told with 129 (DEF-08).
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "block", "note": "lost phone"}, nil)
	eventually(t, "block notification", func() bool {
		_, st := w.device("ALICEPHONE", "alice", eas.CmdSync)
		return st == "129"
	})
	rows, err := w.adm.ByDevice(ctx, "ALICEPHONE")
	if err != nil || len(rows) != 1 || rows[0].State != "B" || rows[0].Validated != "Y" {
		t.Fatalf("gateway cache %+v %v", rows, err)
	}
	// ACT-10/11: Remove; the next access is a first access decided by policy again.
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "remove", "note": "found"}, nil)
	eventually(t, "purge notification", func() bool {
		rows, _ := w.adm.ByDevice(ctx, "ALICEPHONE")
		return len(rows) == 0
	})
	if code, st := w.device("ALICEPHONE", "alice", eas.CmdSync); code != 200 || st != "1" {
		t.Fatalf("after Remove: %d %q", code, st)
	}
}

func TestFailOpenAndReconnectAndRestartWithUEMDown(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// A device the UEM blocks (unregistered + auto-block is off, so block it by hand).
	w.device("BOBPHONE", "bob", eas.CmdFolderSync)
	a := w.association("BOBPHONE", "bob")
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "block", "note": "n"}, nil)
	eventually(t, "bob blocked", func() bool { _, st := w.device("BOBPHONE", "bob", eas.CmdSync); return st == "129" })

	// FLOW-05 / FO-01: UEM down, a new device is let in, not validated.
	w.setFaults(uem.Faults{Down: true})
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
	w.stopGateway()
	w.setFaults(uem.Faults{Down: true})
	w.startGateway(false)
	if code, st := w.device("BOBPHONE", "bob", eas.CmdSync); st != "129" {
		t.Fatalf("known-blocked device after restart with the UEM down: %d %q", code, st)
	}
	if _, st := w.device("ALICEPHONE", "alice", eas.CmdSync); st != "1" {
		t.Fatal("alice's allowed device lost after restart")
	}
}
