package exchange

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// A small ActiveSync test client on protocol/eas: plain query, Basic auth,
// HTTPS against the server's own certificate.

func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	if cfg.MessagesPerUser == 0 {
		cfg.MessagesPerUser = 8
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func httpClient(srv *Server) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(), MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 64}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

type testClient struct {
	t         testing.TB
	srv       *Server
	hc        *http.Client
	user      User
	password  string
	deviceID  string
	version   eas.Version
	policyKey string
	multipart bool
}

func newClient(t testing.TB, srv *Server, user string, deviceID string, v eas.Version) *testClient {
	t.Helper()
	var u User
	for _, x := range srv.Users() {
		if x.Name == user {
			u = x
		}
	}
	if u.Name == "" {
		t.Fatalf("no user %s", user)
	}
	return &testClient{t: t, srv: srv, hc: httpClient(srv), user: u, password: u.Password, deviceID: deviceID, version: v}
}

// raw posts body for cmd and returns the response with its body read.
func (c *testClient) raw(cmd eas.Command, extra url.Values, contentType string, body []byte) (*http.Response, []byte) {
	c.t.Helper()
	q := "Cmd=" + string(cmd) + "&User=" + url.QueryEscape(c.user.Name) + "&DeviceId=" + c.deviceID + "&DeviceType=TestPhone"
	if len(extra) > 0 {
		q += "&" + extra.Encode()
	}
	req, err := http.NewRequest(http.MethodPost, c.srv.EASURL()+"?"+q, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth(c.user.Name, c.password)
	req.Header.Set(eas.HeaderProtocolVersion, c.version.String())
	req.Header.Set("User-Agent", "gatehouse-test/1.0")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.policyKey != "" {
		req.Header.Set(eas.HeaderPolicyKey, c.policyKey)
	}
	if c.multipart {
		req.Header.Set(eas.HeaderAcceptMultiPart, "T")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", cmd, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s: reading body: %v", cmd, err)
	}
	return resp, b
}

// call encodes msg, posts it and decodes the WBXML response into out
// (when the response has a body). It returns the HTTP status.
func (c *testClient) call(cmd eas.Command, msg any, out any) int {
	c.t.Helper()
	var body []byte
	if msg != nil {
		var err error
		if body, err = eas.EncodeMessage(msg); err != nil {
			c.t.Fatal(err)
		}
	}
	resp, b := c.raw(cmd, nil, eas.ContentTypeWBXML, body)
	if out != nil && resp.StatusCode == http.StatusOK && len(b) > 0 {
		if err := wbxml.UnmarshalStruct(b, out, wbxml.DefaultLimits); err != nil {
			c.t.Fatalf("%s: decoding response: %v", cmd, err)
		}
	}
	return resp.StatusCode
}

func (c *testClient) provision() {
	c.t.Helper()
	c.policyKey = ""
	var r1 eas.ProvisionResponse
	req := &eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}}
	if c.version >= eas.V141 {
		req.DeviceInformation = &eas.DeviceInformation{Set: &eas.DeviceInformationSet{Model: "TestPhone 9", FriendlyName: "test", OS: "TestOS 1"}}
	}
	if st := c.call(eas.CmdProvision, req, &r1); st != 200 || r1.Status != 1 || len(r1.Policies) != 1 || r1.Policies[0].PolicyKey == "" {
		c.t.Fatalf("provision phase 1: HTTP %d %+v", st, r1)
	}
	var r2 eas.ProvisionResponse
	ack := &eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML, PolicyKey: r1.Policies[0].PolicyKey, Status: 1}}}
	c.policyKey = r1.Policies[0].PolicyKey
	if st := c.call(eas.CmdProvision, ack, &r2); st != 200 || r2.Status != 1 || len(r2.Policies) != 1 || r2.Policies[0].Status != 1 {
		c.t.Fatalf("provision phase 2: HTTP %d %+v", st, r2)
	}
	c.policyKey = r2.Policies[0].PolicyKey
}

func (c *testClient) folderSync(key string) *eas.FolderSyncResponse {
	c.t.Helper()
	var r eas.FolderSyncResponse
	if st := c.call(eas.CmdFolderSync, &eas.FolderSyncRequest{SyncKey: key}, &r); st != 200 {
		c.t.Fatalf("FolderSync: HTTP %d", st)
	}
	return &r
}

// syncOnce syncs one collection with MIME bodies.
func (c *testClient) syncOnce(colID, key string, window int) *eas.SyncCollectionResponse {
	c.t.Helper()
	col := eas.SyncCollection{SyncKey: key, CollectionId: colID, WindowSize: window}
	if key != "0" {
		col.Options = []eas.SyncOptions{{MIMESupport: eas.Ptr(2), BodyPreference: []eas.BodyPreference{{Type: eas.BodyMIME, TruncationSize: 1 << 20}}}}
		col.GetChanges = eas.Ptr("")
	}
	if c.version < eas.V140 {
		col.Class = "Email"
	}
	var r eas.SyncResponse
	if st := c.call(eas.CmdSync, &eas.SyncRequest{Collections: []eas.SyncCollection{col}}, &r); st != 200 {
		c.t.Fatalf("Sync: HTTP %d", st)
	}
	if r.Status != 0 || len(r.Collections) != 1 {
		c.t.Fatalf("Sync: top-level status %d, %d collections", r.Status, len(r.Collections))
	}
	return &r.Collections[0]
}

// admin calls the admin API and decodes the JSON answer into out.
func adminCall(t testing.TB, srv *Server, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, srv.AdminURL()+path, body)
	req.Header.Set("Authorization", "Bearer "+srv.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient(srv).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil && err != io.EOF {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func inbox(t testing.TB, fs *eas.FolderSyncResponse) string {
	t.Helper()
	for _, f := range fs.Changes.Add {
		if f.Type == FolderTypeInbox {
			return f.ServerId
		}
	}
	t.Fatal("no Inbox")
	return ""
}

var _ = strconv.Itoa
