package gateway_test

// The rig of the end-to-end tests (server_test.go and the other
// gateway_test files): a fake UEM, fake Exchange servers and a gateway,
// over HTTPS on loopback.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
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
	t       *testing.T
	uem     *uem.Server
	exch    *exchange.Server
	gw      *gateway.Server
	dataDir string
	hc      *http.Client // trusts every test certificate
	adm     *admin.Client
	keys    map[string]string // policy key per device
	resync  time.Duration     // the gateway's resync interval
	// gwConfig edits the configuration the UEM holds for the gateway.
	gwConfig func(*uemapi.GatewayConfig)
	dev      *http.Client // what devices use; hc unless a test gives them certificates
	host     string       // Host header devices send ("" for the gateway's address)
	// newExchange starts the world's Exchange; startExchange when nil.
	newExchange func(*testing.T) *exchange.Server
	// gwBoot edits the gateway's bootstrap configuration.
	gwBoot func(*gateway.Config)
	// crlValidity is how long the UEM's CRLs are current (its default when zero).
	crlValidity time.Duration
	// deviceType is the DeviceType post sends; "" is iPhone.
	deviceType string
}

func newWorld(t *testing.T, opts ...func(*world)) *world {
	t.Helper()
	w := &world{t: t, dataDir: t.TempDir(), keys: map[string]string{}}
	for _, o := range opts {
		o(w)
	}
	w.hc = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test peers use throwaway certificates
	if w.newExchange != nil {
		w.exch = w.newExchange(t)
	} else {
		w.exch = startExchange(t)
	}
	var err error

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
		Notify: uem.NotifyConfig{RootCAs: selfsigned.Pool(gwCert), BaseDelay: 50 * time.Millisecond}, CRLValidity: w.crlValidity})
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

// bootConfig is the bootstrap configuration of the world's gateway.
func (w *world) bootConfig() gateway.Config {
	cfg := gateway.Defaults()
	cfg.Listen, cfg.NotifyListen, cfg.AdminListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = w.dataDir
	cfg.UEM = gateway.UEMConfig{URL: w.uem.GatewayURL(), Token: gwToken, NotifySecret: gwSecret, Insecure: true}
	cfg.UpstreamInsecure = true
	cfg.AdminToken = "admin-token"
	cfg.CheckInterval, cfg.PersistInterval, cfg.ResyncInterval = time.Hour, time.Hour, time.Hour
	if w.resync > 0 {
		cfg.ResyncInterval = w.resync
	}
	if w.gwBoot != nil {
		w.gwBoot(&cfg)
	}
	return cfg
}

// startGateway starts a gateway on the world's data directory; register
// creates its entry in the UEM (first start only).
func (w *world) startGateway(register bool) {
	t := w.t
	cfg := w.bootConfig()
	gw, err := gateway.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Listen(); err != nil {
		t.Fatal(err)
	}
	if register {
		upHost := w.exch.Addr()
		gc := uemapi.DefaultGatewayConfig()
		gc.ActiveSync.Services = []uemapi.ActiveSyncService{uemapi.DefaultActiveSyncService(upHost)}
		gc.ActiveSync.Services[0].ServerTLS = true
		if w.gwConfig != nil {
			w.gwConfig(&gc)
		}
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

// post sends one command as a 14.1 device with its policy key and
// returns the HTTP status and the decoded answer (nil when not WBXML).
func (w *world) post(dev, user string, cmd eas.Command, body []byte) (int, *wbxml.Node) {
	w.t.Helper()
	q := &eas.Query{Cmd: cmd, User: user, DeviceID: dev, DeviceType: "iPhone"}
	if w.deviceType != "" {
		q.DeviceType = w.deviceType
	}
	req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	req.SetBasicAuth(user, user+"-pw")
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	if w.host != "" {
		req.Host = w.host
	}
	if k := w.keys[dev]; k != "" {
		req.Header.Set(eas.HeaderPolicyKey, k)
	}
	hc := w.hc
	if w.dev != nil {
		hc = w.dev
	}
	resp, err := hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d, err := wbxml.Parse(b, wbxml.Limits{})
	if err != nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, d.Root
}

// device sends a bodiless command and returns the HTTP status and the
// global status the device sees ("" when the answer has none).
func (w *world) device(dev, user string, cmd eas.Command) (int, string) {
	w.t.Helper()
	var body []byte
	switch cmd {
	case eas.CmdFolderSync:
		body, _ = wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	}
	code, root := w.post(dev, user, cmd, body)
	if root == nil {
		return code, ""
	}
	for _, c := range root.Children {
		if c.Tag.Name() == "Status" {
			return code, c.Text()
		}
	}
	return code, ""
}

// provision runs both Provision phases and returns the policy document the
// device was given, or wipe=true when it was told to wipe (and acknowledged).
func (w *world) provision(dev, user string) (doc *eas.EASProvisionDoc, wipe bool) {
	w.t.Helper()
	req, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}})
	code, root := w.post(dev, user, eas.CmdProvision, req)
	var pr eas.ProvisionResponse
	if root == nil || wbxml.NodeToStruct(root, &pr) != nil {
		w.t.Fatalf("Provision of %s: HTTP %d, no Provision response", dev, code)
	}
	if pr.RemoteWipe {
		ack, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{RemoteWipe: &eas.WipeAck{Status: 1}})
		w.post(dev, user, eas.CmdProvision, ack)
		return nil, true
	}
	if len(pr.Policies) == 0 || pr.Policies[0].Data == nil {
		w.t.Fatalf("Provision of %s: no policy (status %d)", dev, pr.Status)
	}
	doc = pr.Policies[0].Data.EASProvisionDoc
	temp := pr.Policies[0].PolicyKey
	w.keys[dev] = ""
	ack, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML, PolicyKey: temp, Status: 1}}})
	_, root = w.post(dev, user, eas.CmdProvision, ack)
	var fin eas.ProvisionResponse
	if root == nil || wbxml.NodeToStruct(root, &fin) != nil || len(fin.Policies) == 0 || fin.Policies[0].PolicyKey == "" {
		w.t.Fatalf("Provision acknowledgement of %s failed", dev)
	}
	w.keys[dev] = fin.Policies[0].PolicyKey
	return doc, false
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

// startExchange starts a fake Exchange with alice and bob.
func startExchange(t *testing.T) *exchange.Server { return startExchangeWith(t, nil) }

// startExchangeWith starts a fake Exchange with alice and bob and the
// given authenticator (nil: Basic).
func startExchangeWith(t *testing.T, auth exchange.Authenticator) *exchange.Server {
	t.Helper()
	x, err := exchange.New(exchange.Config{Users: []exchange.User{
		{Name: "alice", Email: "alice@corp.example", Password: "alice-pw"},
		{Name: "bob", Email: "bob@corp.example", Password: "bob-pw"},
	}, MessagesPerUser: 3, Seed: 7, Authenticator: auth})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Shutdown(context.Background()) })
	return x
}

func partnered(x *exchange.Server, dev string) bool {
	for _, p := range x.Partnerships() {
		if p.DeviceID == dev {
			return true
		}
	}
	return false
}

const (
	gwToken  = "gw1-token-0123456789"
	gwSecret = "gw1-notify-secret"
)
