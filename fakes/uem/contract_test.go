package uem

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// rawCall sends a request to the fake and decodes the error body, for the
// error cases the typed client cannot produce (bad JSON, wrong method...).
func rawCall(t *testing.T, hc *http.Client, method, url, token string, body io.Reader) (int, *uemapi.Error) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 400 {
		return resp.StatusCode, nil
	}
	var eb uemapi.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Error == nil {
		t.Fatalf("%s %s: status %d without the JSON error shape (%v)", method, url, resp.StatusCode, err)
	}
	if eb.Error.Code.HTTPStatus() != resp.StatusCode {
		t.Errorf("code %s sent with status %d", eb.Error.Code, resp.StatusCode)
	}
	return resp.StatusCode, eb.Error
}

func TestContract_TLSAndConnectivity(t *testing.T) {
	w := newWorld(t, Config{})
	if !strings.HasPrefix(w.srv.GatewayURL(), "https://127.0.0.1:") {
		t.Fatalf("gateway URL %s", w.srv.GatewayURL())
	}
	c := must[*uemapi.Connectivity](t)(w.client.Connectivity(context.Background()))
	if c.APIVersion != "v1" || c.GatewayID != "gw1" || !c.Enabled || c.ConfigVersion != 1 {
		t.Fatalf("connectivity: %+v", c)
	}
	// FLOW-15: the UEM shows the version the gateway reported.
	if g := must[GatewayEntry](t)(w.srv.Gateway("gw1")); g.Version != "10.0.0" || g.LastContact.IsZero() {
		t.Fatalf("gateway entry: version %q contact %v", g.Version, g.LastContact)
	}
	// TLS 1.2 is the minimum.
	tr := w.hc.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.MaxVersion = 0x0302 // TLS 1.1
	old, _ := uemapi.NewClient(w.srv.GatewayURL(), testToken, uemapi.WithHTTPClient(&http.Client{Transport: tr}))
	if _, err := old.Connectivity(context.Background()); err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
}

func TestContract_AuthFailures(t *testing.T) {
	w := newWorld(t, Config{})
	ctx := context.Background()
	for name, tok := range map[string]string{"wrong token": "not-the-token-at-all", "empty token": "", "admin token": w.srv.AdminToken()} {
		c, _ := uemapi.NewClient(w.srv.GatewayURL(), tok, uemapi.WithHTTPClient(w.hc))
		_, err := c.Connectivity(ctx)
		var e *uemapi.Error
		if !errors.As(err, &e) || e.Code != uemapi.CodeUnauthorized || e.Status != http.StatusUnauthorized {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Basic with the token as password is accepted.
	req, _ := http.NewRequest(http.MethodGet, w.srv.GatewayURL()+uemapi.PathConnectivity, nil)
	req.SetBasicAuth("gw1", testToken)
	resp, err := w.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("basic auth: %d", resp.StatusCode)
	}
	// The gateway token does not open the admin API.
	if st, e := rawCall(t, w.hc, http.MethodGet, w.srv.AdminURL()+"/admin/v1/preferences", testToken, nil); st != 401 || e.Code != uemapi.CodeUnauthorized {
		t.Fatalf("admin with gateway token: %d %v", st, e)
	}
}

func TestContract_ErrorCodes(t *testing.T) {
	w := newWorld(t, Config{})
	ctx := context.Background()
	base := w.srv.GatewayURL()
	cases := []struct {
		code uemapi.Code
		call func() error
	}{
		{uemapi.CodeInvalidJSON, func() error {
			_, e := rawCall(t, w.hc, http.MethodPost, base+uemapi.PathDeviceReport, testToken, strings.NewReader("{not json"))
			return e
		}},
		{uemapi.CodeInvalidField, func() error {
			_, err := w.client.ReportDevice(ctx, uemapi.DeviceReport{EASDeviceID: "E1"})
			if e := (*uemapi.Error)(nil); errors.As(err, &e) && e.Field != "user" {
				t.Errorf("field %q, want user", e.Field)
			}
			return err
		}},
		{uemapi.CodeUnauthorized, func() error {
			_, e := rawCall(t, w.hc, http.MethodGet, base+uemapi.PathConnectivity, "", nil)
			return e
		}},
		{uemapi.CodeNotFound, func() error {
			_, e := rawCall(t, w.hc, http.MethodGet, base+"/api/v1/nothing-here", testToken, nil)
			return e
		}},
		{uemapi.CodeMethodNotAllowed, func() error {
			_, e := rawCall(t, w.hc, http.MethodGet, base+uemapi.PathDeviceReport, testToken, nil)
			return e
		}},
		{uemapi.CodeConflict, func() error {
			_, e := rawCall(t, w.hc, http.MethodPost, w.srv.AdminURL()+"/admin/v1/policies", w.srv.AdminToken(), strings.NewReader(`{"name":"Default ActiveSync Policy"}`))
			return e
		}},
		{uemapi.CodeActionNotAllowed, func() error {
			report(t, w, "E2", "u@x.example")
			return w.client.AckWipe(ctx, uemapi.WipeAck{EASDeviceID: "E2", User: "u@x.example"})
		}},
		{uemapi.CodeBodyTooLarge, func() error {
			big := `{"eas_device_id":"` + strings.Repeat("x", uemapi.MaxRequestBody) + `"}`
			_, e := rawCall(t, w.hc, http.MethodPost, base+uemapi.PathDeviceReport, testToken, strings.NewReader(big))
			return e
		}},
		{uemapi.CodeUnavailable, func() error {
			if err := w.srv.SetFaults(Faults{ErrorRate: 1}); err != nil {
				t.Fatal(err)
			}
			defer w.srv.SetFaults(Faults{})
			_, err := w.client.Connectivity(ctx)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(string(c.code), func(t *testing.T) {
			err := c.call()
			if !uemapi.IsCode(err, c.code) {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
	t.Run("internal", func(t *testing.T) {
		// A peer that answers a bare 500 maps to the internal code.
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }))
		defer ts.Close()
		c, _ := uemapi.NewClient(ts.URL, "x")
		_, err := c.Connectivity(ctx)
		mustCode(t, err, uemapi.CodeInternal)
	})
	t.Run("unknown field is named", func(t *testing.T) {
		_, e := rawCall(t, w.hc, http.MethodPost, base+uemapi.PathDeviceReport, testToken, strings.NewReader(`{"eas_device_id":"E","user":"u","colour":"red"}`))
		if e == nil || e.Code != uemapi.CodeInvalidField || e.Field != "colour" {
			t.Fatalf("got %+v", e)
		}
	})
	t.Run("wrong type is named", func(t *testing.T) {
		_, e := rawCall(t, w.hc, http.MethodPost, base+uemapi.PathDeviceReport, testToken, strings.NewReader(`{"eas_device_id":5,"user":"u"}`))
		if e == nil || e.Code != uemapi.CodeInvalidField || e.Field != "eas_device_id" {
			t.Fatalf("got %+v", e)
		}
	})
}

func TestContract_DeviceListInitAndResync_FLOW10(t *testing.T) {
	w := newWorld(t, Config{})
	seedUsers(t, w.srv)
	ctx := context.Background()
	allowed := report(t, w, "EAS-ALICE", "alice@corp.example") // registered, allowed
	unreg := report(t, w, "EAS-U", "stranger@corp.example")    // unregistered (FLOW-11)
	blocked := report(t, w, "EAS-BOB", "bob@corp.example")     // registered by user name
	must[Association](t)(w.srv.Act(blocked.AssociationID, Action{Action: ActBlock}))
	pol := must[uemapi.ActiveSyncPolicy](t)(w.srv.CreatePolicy(uemapi.NewPolicy("Execs")))
	must[Association](t)(w.srv.Act(allowed.AssociationID, Action{Action: ActAssignPolicy, PolicyID: pol.ID}))

	var got []uemapi.DeviceEntry
	var pols map[string]*uemapi.ActiveSyncPolicy
	pages := 0
	err := w.client.EachDevicePage(ctx, uemapi.FilterAllowed, 1, func(p *uemapi.DevicePage) error {
		pages++
		got = append(got, p.Items...)
		if len(p.Policies) > 0 {
			pols = p.Policies
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].AssociationID != allowed.AssociationID || got[0].PolicyID != pol.ID || pols[pol.ID].Name != "Execs" {
		t.Fatalf("allowed list: %+v policies %v", got, pols)
	}
	all := map[string]uemapi.SyncState{}
	err = w.client.EachDevicePage(ctx, uemapi.FilterAll, 2, func(p *uemapi.DevicePage) error {
		for _, e := range p.Items {
			all[e.AssociationID] = e.State
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[blocked.AssociationID] != uemapi.StateBlocked || all[unreg.AssociationID] != uemapi.StateAllowed {
		t.Fatalf("FLOW-13 full list: %v", all)
	}
	_, err = w.client.Devices(ctx, uemapi.FilterAllowed, "", uemapi.MaxPageSize+1)
	mustCode(t, err, uemapi.CodeInvalidField)
	_, err = w.client.Devices(ctx, "bogus", "", 0)
	mustCode(t, err, uemapi.CodeInvalidField)
	_, err = w.client.Devices(ctx, uemapi.FilterAllowed, "zz", 0)
	mustCode(t, err, uemapi.CodeInvalidField)
}

func TestContract_LastSeenAndRedirect_ASA06(t *testing.T) {
	w := newWorld(t, Config{})
	ctx := context.Background()
	d := report(t, w, "E1", "u@x.example")
	at := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	res := must[*uemapi.LastSeenResult](t)(w.client.ReportLastSeen(ctx, []uemapi.LastSeen{
		{EASDeviceID: "E1", User: "u@x.example", Time: at, RedirectURL: "https://mail2.example/Microsoft-Server-ActiveSync"},
		{EASDeviceID: "E9", User: "nobody@x.example", Time: at},
	}))
	if res.Updated != 1 || len(res.Unknown) != 1 || res.Unknown[0].EASDeviceID != "E9" {
		t.Fatalf("result %+v", res)
	}
	a := must[Association](t)(w.srv.Association(d.AssociationID))
	if !a.LastSyncTime.Equal(at) || a.RedirectURL == "" {
		t.Fatalf("association %+v", a)
	}
	_, err := w.client.ReportLastSeen(ctx, make([]uemapi.LastSeen, uemapi.MaxBatch+1))
	mustCode(t, err, uemapi.CodeInvalidField)
}

func TestContract_ConfigETag_ENT01(t *testing.T) {
	w := newWorld(t, Config{})
	ctx := context.Background()
	doc, etag, err := w.client.Config(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || etag == "" || doc.PolicyBehavior != uemapi.PolicyApplyServer || doc.Config.Servers.DeadThreshold != 5 {
		t.Fatalf("doc %+v etag %q", doc, etag)
	}
	if _, _, err := w.client.Config(ctx, etag); !errors.Is(err, uemapi.ErrNotModified) {
		t.Fatalf("conditional fetch: %v", err)
	}
	cfg := doc.Config
	cfg.Servers.Scheduling = uemapi.ScheduleRoundRobin
	must[GatewayEntry](t)(w.srv.SetGatewayConfig("gw1", cfg))
	doc2, etag2, err := w.client.Config(ctx, etag)
	if err != nil || doc2.Version != 2 || etag2 == etag || doc2.Config.Servers.Scheduling != uemapi.ScheduleRoundRobin {
		t.Fatalf("after change: %+v %q %v", doc2, etag2, err)
	}
	// An invalid configuration is refused with the field named.
	cfg.Servers.DeadThreshold = 0
	_, err = w.srv.SetGatewayConfig("gw1", cfg)
	if e := (*uemapi.Error)(nil); !errors.As(err, &e) || e.Field != "server_management.dead_threshold" {
		t.Fatalf("invalid config: %v", err)
	}
}

func TestContract_AttachmentKey_ATT08(t *testing.T) {
	cases := []struct {
		id         string
		docsOrig   bool
		gwVersion  string
		wantAlg    uemapi.KeyAlgorithm
		wantKeyLen int
	}{
		{"ATT-08", false, "10.0.0", uemapi.AES256GCM, 32},
		{"ATT-08", true, "10.0.0", uemapi.AES128ECB, 16},
		{"ATT-08", false, "6.0.2", uemapi.AES128ECB, 16},
		{"ATT-08", false, "6.1", uemapi.AES256GCM, 32},
		{"ATT-08", false, "dev", uemapi.AES256GCM, 32},
	}
	for _, c := range cases {
		t.Run(c.id+"/"+c.gwVersion, func(t *testing.T) {
			w := newWorld(t, Config{})
			p := w.srv.Preferences()
			p.DocsAtWorkOriginal = c.docsOrig
			must[Preferences](t)(w.srv.SetPreferences(p))
			cl, _ := uemapi.NewClient(w.srv.GatewayURL(), testToken, uemapi.WithHTTPClient(w.hc), uemapi.WithGatewayVersion(c.gwVersion))
			k := must[*uemapi.AttachmentKey](t)(cl.AttachmentKey(context.Background()))
			if k.Algorithm != c.wantAlg || len(k.Key) != c.wantKeyLen {
				t.Fatalf("key %s/%d bytes, want %s/%d", k.Algorithm, len(k.Key), c.wantAlg, c.wantKeyLen)
			}
			// The key persists until regenerated (ATT-10, ATT-09).
			if k2 := must[*uemapi.AttachmentKey](t)(cl.AttachmentKey(context.Background())); !bytes.Equal(k2.Key, k.Key) {
				t.Fatal("key changed without regeneration")
			}
			if k3 := w.srv.RegenerateKey(); bytes.Equal(k3.Key, k.Key) || k3.ID == k.ID {
				t.Fatal("regeneration kept the key")
			}
		})
	}
}
