package device

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// State is what the device knows about its own standing.
type State uint8

// States.
const (
	Active  State = iota // nothing stops it
	Blocked              // last answer was 403 or Status 129
	Wiped                // it acknowledged a RemoteWipe and forgot its data
)

func (s State) String() string {
	switch s {
	case Blocked:
		return "blocked"
	case Wiped:
		return "wiped"
	}
	return "active"
}

// Message is what the device keeps of a synced mail: small on purpose.
type Message struct {
	ServerID    string
	Subject     string
	Attachments []Attachment
}

// Attachment is a synced attachment's name and reference.
type Attachment struct {
	Name          string
	FileReference string
	Size          uint32
}

// Device is one simulated EAS device. Its methods may be called from
// several goroutines (a hanging Ping beside a Sync), but a device is
// normally driven by one.
type Device struct {
	cfg   Config
	url   string // .../Microsoft-Server-ActiveSync
	hc    *http.Client
	auth  string       // Authorization header value (Basic)
	oauth *oauthClient // nil without OAuth
	// admitted: the gateway has answered one of this device's requests
	// (tellConn counts its connections as the gateway does).
	admitted atomic.Bool

	mu        sync.Mutex
	state     State
	policyKey string
	policy    *eas.EASProvisionDoc
	folderKey string
	inbox     string            // Inbox ServerId
	syncKeys  map[string]string // collection id -> sync key
	messages  []Message
	records   []RoundTrip
	nrecords  int        // total ever recorded
	provs     int        // completed provisionings
	wipes     []WipeKind // wipe orders received, in order (wipe.go)
}

// New makes a device talking to baseURL (scheme and host of the gateway
// or server; the ActiveSync path is added) through hc, which is shared.
func New(cfg Config, baseURL string, hc *http.Client) (*Device, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	req, _ := http.NewRequest(http.MethodPost, "https://x", nil)
	req.SetBasicAuth(cfg.User, cfg.Password)
	d := &Device{cfg: cfg, url: strings.TrimSuffix(baseURL, "/") + "/Microsoft-Server-ActiveSync", hc: hc,
		auth: req.Header.Get("Authorization")}
	if cfg.OAuth != nil {
		d.oauth = newOAuthClient(cfg, hc)
	}
	return d, nil
}

// Config returns the device's configuration (with defaults applied).
func (d *Device) Config() Config { return d.cfg }

// ID returns the EAS device id.
func (d *Device) ID() string { return d.cfg.ID }

// User returns the user the device authenticates as.
func (d *Device) User() string { return d.cfg.User }

// State returns what the device last learned about its standing.
func (d *Device) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state
}

// Policy returns the policy the device applied at its last Provision, nil
// before one (or after a wipe).
func (d *Device) Policy() *eas.EASProvisionDoc {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.policy
}

// PolicyKey returns the final policy key the device holds.
func (d *Device) PolicyKey() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.policyKey
}

// Provisionings counts completed Provisions (policy acknowledged).
func (d *Device) Provisionings() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.provs
}

// Messages returns the Inbox messages the device has synced.
func (d *Device) Messages() []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Message(nil), d.messages...)
}

// params are the optional query parameters of a request.
type params struct {
	collectionID, itemID, attachmentName string
	saveInSent, acceptMultiPart          bool
	contentType                          string // default WBXML
}

// send posts one request and records it. It returns the HTTP status, the
// body and the global status (0 when the body has none).
func (d *Device) send(ctx context.Context, cmd eas.Command, body []byte, p params) (int, []byte, *wbxml.Node, error) {
	code, data, root, err := d.sendOnce(ctx, cmd, body, p)
	if err == nil && code == http.StatusUnauthorized && d.tokenRefused() {
		// OAuth: the token expired or was revoked; refresh and retry once.
		return d.sendOnce(ctx, cmd, body, p)
	}
	return code, data, root, err
}

func (d *Device) sendOnce(ctx context.Context, cmd eas.Command, body []byte, p params) (int, []byte, *wbxml.Node, error) {
	req, err := d.newRequest(ctx, cmd, body, p)
	if err != nil {
		return 0, nil, nil, err
	}
	x := RoundTrip{At: time.Now(), Cmd: cmd, BytesOut: len(body)}
	resp, err := d.hc.Do(req)
	if err != nil {
		x.Duration, x.Err = time.Since(x.At), err.Error()
		d.record(x)
		return 0, nil, nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	x.Duration, x.HTTPStatus, x.BytesIn = time.Since(x.At), resp.StatusCode, len(data)
	if err != nil {
		x.Err = err.Error()
		d.record(x)
		return resp.StatusCode, nil, nil, err
	}
	var root *wbxml.Node
	if len(data) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), eas.ContentTypeWBXML) {
		if doc, perr := wbxml.Parse(data, wbxml.Limits{}); perr == nil {
			root = doc.Root
			x.Status = globalStatus(root)
		}
	}
	d.record(x)
	return resp.StatusCode, data, root, nil
}

// globalStatus is the root's Status child, as a 14.0+ device reads it.
func globalStatus(root *wbxml.Node) int {
	if root == nil {
		return 0
	}
	for _, c := range root.Children {
		if c.Tag.Name() == "Status" {
			n, _ := strconv.Atoi(strings.TrimSpace(c.Text()))
			return n
		}
	}
	return 0
}

// command sends a command and handles what every command may be told:
// provision first (449, 142-144, 140), blocked (403, 129). It provisions
// and retries once; out must be a pointer to the typed response or nil.
func (d *Device) command(ctx context.Context, cmd eas.Command, body []byte, p params, out any) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		code, data, root, err := d.send(ctx, cmd, body, p)
		if err != nil {
			return code, nil, err
		}
		st := globalStatus(root)
		switch {
		case code == http.StatusForbidden || st == int(eas.StatusDeviceIsBlockedForThisUser):
			d.setState(Blocked)
			return code, data, ErrBlocked
		case code == eas.HTTPRetryWith || eas.Status(st).NeedsProvision() || st == int(eas.StatusRemoteWipeRequested):
			if attempt > 0 {
				return code, data, ErrProvision
			}
			if err := d.Provision(ctx); err != nil {
				return code, data, err
			}
			continue
		case code != http.StatusOK:
			return code, data, &StatusError{Cmd: cmd, HTTPStatus: code, Status: st}
		}
		d.setState(Active)
		if out != nil && root != nil {
			if err := wbxml.NodeToStruct(root, out); err != nil {
				return code, data, fmt.Errorf("device: %s response: %w", cmd, err)
			}
		}
		return code, data, nil
	}
}

func (d *Device) setState(s State) {
	d.mu.Lock()
	d.state = s
	d.mu.Unlock()
}

// Provision runs both Provision phases and applies the policy received.
// On RemoteWipe it acknowledges, forgets its data and returns ErrWiped.
func (d *Device) Provision(ctx context.Context) error {
	req := eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}}
	if d.cfg.Version.Compare(eas.V141) >= 0 {
		req.DeviceInformation = &eas.DeviceInformation{Set: &eas.DeviceInformationSet{
			Model: d.cfg.Model, OS: d.cfg.OS(), OSLanguage: d.cfg.Language, UserAgent: d.cfg.UserAgent(), FriendlyName: d.cfg.ID,
		}}
	}
	d.mu.Lock()
	d.policyKey = ""
	d.mu.Unlock()
	var pr eas.ProvisionResponse
	if err := d.provisionStep(ctx, &req, &pr); err != nil {
		return err
	}
	if pr.RemoteWipe || pr.AccountOnlyRemoteWipe {
		d.recordWipe(pr)
		ack := eas.ProvisionRequest{}
		if pr.RemoteWipe {
			ack.RemoteWipe = &eas.WipeAck{Status: 1}
		} else {
			ack.AccountOnlyRemoteWipe = &eas.WipeAck{Status: 1}
		}
		var fin eas.ProvisionResponse
		_ = d.provisionStep(ctx, &ack, &fin) // the server may answer anything: the device wipes regardless
		d.forget()
		return ErrWiped
	}
	if pr.Status != 1 || len(pr.Policies) == 0 || pr.Policies[0].PolicyKey == "" {
		return &StatusError{Cmd: eas.CmdProvision, HTTPStatus: http.StatusOK, Status: pr.Status}
	}
	var doc *eas.EASProvisionDoc
	if pr.Policies[0].Data != nil {
		doc = pr.Policies[0].Data.EASProvisionDoc
	}
	d.mu.Lock()
	d.policyKey = pr.Policies[0].PolicyKey // temporary key for the acknowledgement
	d.mu.Unlock()
	ack := eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML, PolicyKey: pr.Policies[0].PolicyKey, Status: 1}}}
	var fin eas.ProvisionResponse
	if err := d.provisionStep(ctx, &ack, &fin); err != nil {
		return err
	}
	if fin.Status != 1 || len(fin.Policies) == 0 || fin.Policies[0].PolicyKey == "" {
		return &StatusError{Cmd: eas.CmdProvision, HTTPStatus: http.StatusOK, Status: fin.Status}
	}
	d.mu.Lock()
	d.policyKey, d.policy = fin.Policies[0].PolicyKey, doc
	d.provs++
	d.state = Active
	d.mu.Unlock()
	return nil
}

func (d *Device) provisionStep(ctx context.Context, req *eas.ProvisionRequest, out *eas.ProvisionResponse) error {
	body, err := wbxml.MarshalStruct(req)
	if err != nil {
		return err
	}
	code, _, root, err := d.send(ctx, eas.CmdProvision, body, params{})
	if err != nil {
		return err
	}
	if code == http.StatusForbidden || globalStatus(root) == int(eas.StatusDeviceIsBlockedForThisUser) {
		d.setState(Blocked)
		return ErrBlocked
	}
	if code != http.StatusOK || root == nil {
		return &StatusError{Cmd: eas.CmdProvision, HTTPStatus: code, Status: globalStatus(root)}
	}
	return wbxml.NodeToStruct(root, out)
}

// forget drops everything a wipe erases.
func (d *Device) forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state = Wiped
	d.policyKey, d.policy, d.folderKey, d.inbox = "", nil, "", ""
	d.syncKeys, d.messages = nil, nil
}

// Reset makes a wiped or blocked device start over as a fresh enrolment
// (same id): Active, no keys, no data.
func (d *Device) Reset() {
	d.forget()
	d.mu.Lock()
	d.state = Active
	d.mu.Unlock()
}

// Connect is a device's first contact: Provision, FolderSync, Sync.
func (d *Device) Connect(ctx context.Context) error {
	if err := d.Provision(ctx); err != nil {
		return err
	}
	if err := d.FolderSync(ctx); err != nil {
		return err
	}
	_, err := d.Sync(ctx)
	return err
}
