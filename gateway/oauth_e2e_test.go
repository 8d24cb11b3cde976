package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/idp"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/oauth"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// oauthWorld is the world with OAuth pass-through: a fake IdP whose
// conditional access trusts only the gateway's address (127.0.0.1), a
// fake Exchange taking bearer tokens from there only, and the UEM's
// configuration turning "Enable Pass Through with OAuth" on with the
// IdP as destination. Devices dial from 127.0.0.3.
type oauthWorld struct {
	*world
	idp *idp.Server
}

const deviceAddr = "127.0.0.3"

func newOAuthWorld(t *testing.T) *oauthWorld {
	t.Helper()
	gwAddr := netip.MustParseAddr("127.0.0.1")
	ip, err := idp.New(idp.Config{Domain: "corp.example", Users: []idp.User{{Name: "alice", Password: "alice-pw"}, {Name: "bob", Password: "bob-pw"}},
		AllowedSources: []netip.Addr{gwAddr}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ip.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ip.Shutdown(context.Background()) })
	idpClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ip.CertPool(), MinVersion: tls.VersionTLS12}}}
	w := newWorld(t, func(w *world) {
		w.newExchange = func(t *testing.T) *exchange.Server {
			x, err := exchange.New(exchange.Config{Users: []exchange.User{
				{Name: "alice", Email: "alice@corp.example", Password: "alice-pw"}, {Name: "bob", Email: "bob@corp.example", Password: "bob-pw"},
			}, MessagesPerUser: 3, Seed: 7, Bearer: &exchange.BearerConfig{JWKSURL: ip.KeysURL(), Client: idpClient,
				AuthorizationURI: ip.AuthorizeURL(), AllowedSources: []netip.Addr{gwAddr}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := x.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { x.Shutdown(context.Background()) })
			return x
		}
		w.gwConfig = func(c *uemapi.GatewayConfig) {
			s := &c.ActiveSync.Services[0]
			s.PassThroughOAuth, s.PassThroughBasic = true, true
			s.OAuth = &uemapi.OAuthSettings{AuthorizeEndpoint: ip.AuthorizeURL(), TokenEndpoint: ip.TokenURL()}
		}
	})
	return &oauthWorld{world: w, idp: ip}
}

// oauthDevice dials from the device's address, trusts the test
// certificates and leaves the app's redirects to the app.
func oauthDevice() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(deviceAddr)}}
	return &http.Client{Timeout: 20 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // test certificates
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn drives the code flow with PKCE through base (the gateway's
// /proxyservice/oauth2 or the IdP's /common/oauth2) with
// golang.org/x/oauth2, asking for resource.
func signIn(hc *http.Client, authURL, tokenURL, user, pw, resource string) (*oauth2.Config, *oauth2.Token, error) {
	conf := &oauth2.Config{ClientID: "ios-mail", RedirectURL: "com.apple.mobilemail://oauth-redirect",
		Endpoint: oauth2.Endpoint{AuthURL: authURL, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	u := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", resource))
	page, err := hc.Get(u)
	if err != nil {
		return nil, nil, err
	}
	_ = page.Body.Close()
	if page.StatusCode != http.StatusOK {
		return nil, nil, errors.New("sign-in page: " + page.Status)
	}
	resp, err := hc.PostForm(u, url.Values{"login": {user}, "passwd": {pw}})
	if err != nil {
		return nil, nil, err
	}
	_ = resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		return nil, nil, errors.New("sign-in: " + resp.Status + " " + loc.Query().Get("error"))
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	return conf, tok, err
}

func (o *oauthWorld) gatewaySignIn(t *testing.T, user string) (*oauth2.Config, *oauth2.Token) {
	t.Helper()
	gw := o.gw.DeviceURL()
	conf, tok, err := signIn(oauthDevice(), gw+"/proxyservice/oauth2/authorize", gw+"/proxyservice/oauth2/token", user, user+"-pw", gw)
	if err != nil {
		t.Fatalf("sign-in through the gateway: %v", err)
	}
	return conf, tok
}

// bearer sends one command with an Authorization header from the
// device's address and returns the status, the challenges and the
// decoded answer.
func (o *oauthWorld) bearer(dev, queryUser, authorization string, cmd eas.Command, body []byte) (int, []string, *wbxml.Node) {
	o.t.Helper()
	if queryUser == "" {
		queryUser = "alice@corp.example" // what the mail app sends; never the key
	}
	q := &eas.Query{Cmd: cmd, User: queryUser, DeviceID: dev, DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, o.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	if k := o.keys[dev]; k != "" {
		req.Header.Set(eas.HeaderPolicyKey, k)
	}
	resp, err := oauthDevice().Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d, err := wbxml.Parse(b, wbxml.Limits{})
	if err != nil {
		return resp.StatusCode, resp.Header.Values("WWW-Authenticate"), nil
	}
	return resp.StatusCode, resp.Header.Values("WWW-Authenticate"), d.Root
}

func (o *oauthWorld) folderSync(dev, authorization string) (int, []string) {
	body, _ := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	code, ch, _ := o.bearer(dev, "", authorization, eas.CmdFolderSync, body)
	return code, ch
}

// provisionBearer runs both Provision phases with a bearer token.
func (o *oauthWorld) provisionBearer(dev, authorization string) (wipe bool) {
	o.t.Helper()
	req, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}})
	code, _, root := o.bearer(dev, "", authorization, eas.CmdProvision, req)
	var pr eas.ProvisionResponse
	if root == nil || wbxml.NodeToStruct(root, &pr) != nil {
		o.t.Fatalf("Provision of %s: HTTP %d", dev, code)
	}
	if pr.RemoteWipe {
		ack, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{RemoteWipe: &eas.WipeAck{Status: 1}})
		o.bearer(dev, "", authorization, eas.CmdProvision, ack)
		return true
	}
	if len(pr.Policies) == 0 {
		o.t.Fatalf("Provision of %s: status %d", dev, pr.Status)
	}
	ack, _ := wbxml.MarshalStruct(&eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML, PolicyKey: pr.Policies[0].PolicyKey, Status: 1}}})
	_, _, root = o.bearer(dev, "", authorization, eas.CmdProvision, ack)
	var fin eas.ProvisionResponse
	if root == nil || wbxml.NodeToStruct(root, &fin) != nil || len(fin.Policies) == 0 {
		o.t.Fatalf("Provision acknowledgement of %s failed", dev)
	}
	o.keys[dev] = fin.Policies[0].PolicyKey
	return false
}

// TestOAU04SignInThroughGatewayAndSync: golang.org/x/oauth2 drives the
// code flow with PKCE through the gateway's /proxyservice/oauth2
// endpoints, asking for the Sentry resource; the IdP (which trusts only
// the gateway's address) issues a token for Exchange Online's resource;
// the device provisions and syncs with it through the gateway, keyed on
// the token's user; and the refresh token works through the gateway too.
func TestOAU04SignInThroughGatewayAndSync(t *testing.T) {
	o := newOAuthWorld(t)
	conf, tok := o.gatewaySignIn(t, "alice")
	if res, _ := tok.Extra("resource").(string); res != o.gw.DeviceURL() {
		t.Errorf("token answer's resource %q, want the Sentry resource %s", res, o.gw.DeviceURL())
	}
	c, err := (&oauth.Verifier{Keys: oauth.StaticKeys{}, Audiences: []string{"x"}}).Verify(context.Background(), tok.AccessToken)
	if !errors.Is(err, oauth.ErrUnknownKey) {
		t.Fatalf("access token does not parse as a JWT: %v %v", c, err)
	}
	auth := "Bearer " + tok.AccessToken
	o.provisionBearer("OAUTHPHONE", auth)
	if code, _ := o.folderSync("OAUTHPHONE", auth); code != http.StatusOK {
		t.Fatalf("FolderSync with the token: %d", code)
	}
	if a := o.association("OAUTHPHONE", "alice"); a == nil {
		t.Fatal("no UEM association for the token's user")
	}
	// The query's User is never the user: alice's token cannot act as bob.
	if code, _, _ := o.bearer("OAUTHPHONE", "bob", auth, eas.CmdFolderSync, nil); code != http.StatusBadRequest {
		t.Fatalf("alice's token with User=bob: %d, want 400", code)
	}
	old := *tok
	old.Expiry = time.Now().Add(-time.Hour)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, oauthDevice())
	fresh, err := conf.TokenSource(ctx, &old).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh through the gateway: %v", err)
	}
	if code, _ := o.folderSync("OAUTHPHONE", "Bearer "+fresh.AccessToken); code != http.StatusOK {
		t.Fatalf("FolderSync with the refreshed token: %d", code)
	}
}

// TestOAU07DeviceSkippingGatewayRefused: conditional access refuses a
// device that signs in at the IdP directly (its own address), and a
// token used at Exchange from the device's address.
func TestOAU07DeviceSkippingGatewayRefused(t *testing.T) {
	o := newOAuthWorld(t)
	if _, _, err := signIn(oauthDevice(), o.idp.AuthorizeURL(), o.idp.TokenURL(), "alice", "alice-pw", exchange.ExchangeOnlineResource); err == nil {
		t.Fatal("a device signed in at the IdP directly")
	}
	_, tok := o.gatewaySignIn(t, "alice")
	req, _ := http.NewRequest(http.MethodOptions, o.exch.EASURL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := oauthDevice().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token used at Exchange from the device's address: %d", resp.StatusCode)
	}
	if o.idp.Counts().CARefusals == 0 {
		t.Fatal("the IdP counted no conditional-access refusal")
	}
}

// TestOAUBadTokensNeverReachExchange: malformed, unsigned, wrongly
// signed, expired, wrong-audience and oversized tokens, and none, are
// each answered 401 with a Bearer challenge pointing at the gateway, and
// Exchange sees none of them.
func TestOAUBadTokensNeverReachExchange(t *testing.T) {
	o := newOAuthWorld(t)
	_, good := o.gatewaySignIn(t, "alice")
	parts := strings.Split(good.AccessToken, ".")
	signInAs := func(f idp.Faults) string {
		if err := o.idp.SetFaults(f); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = o.idp.SetFaults(idp.Faults{}) }()
		_, tok := o.gatewaySignIn(t, "alice")
		return tok.AccessToken
	}
	expired, wrongKey := signInAs(idp.Faults{ExpiredTokens: true}), signInAs(idp.Faults{WrongKey: true})
	before := len(o.exch.Requests(exchange.JournalFilter{}))
	for name, auth := range map[string]string{
		"none":           "",
		"malformed":      "Bearer not-a-token",
		"alg none":       "Bearer eyJhbGciOiJub25lIiwia2lkIjoieCJ9." + parts[1] + ".",
		"tampered":       "Bearer " + parts[0] + "." + strings.TrimSuffix(parts[1], parts[1][len(parts[1])-2:]) + "AA." + parts[2],
		"wrongly signed": "Bearer " + wrongKey,
		"expired":        "Bearer " + expired,
		"oversized":      "Bearer " + strings.Repeat("A", oauth.MaxAuthorization),
	} {
		code, ch := o.folderSync("BADPHONE", auth)
		if code != http.StatusUnauthorized || len(ch) == 0 {
			t.Errorf("%s: %d %q, want 401 with challenges", name, code, ch)
			continue
		}
		if u, ok := oauth.ChallengeURI(ch[0]); !ok || u != o.gw.DeviceURL()+"/proxyservice/oauth2/authorize" {
			t.Errorf("%s: challenge %q does not point at the gateway", name, ch[0])
		}
	}
	if after := len(o.exch.Requests(exchange.JournalFilter{})); after != before {
		t.Fatalf("Exchange saw %d requests with bad tokens", after-before)
	}
	req, _ := http.NewRequest(http.MethodGet, o.gw.AdminURL()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer admin-token")
	resp, err := o.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`gatehouse_oauth_tokens_refused_total{reason="expired"} 1`, `gatehouse_oauth_tokens_refused_total{reason="signature"} 2`,
		`gatehouse_oauth_tokens_refused_total{reason="algorithm"} 1`, `gatehouse_oauth_tokens_refused_total{reason="too_large"} 1`,
		`gatehouse_oauth_tokens_refused_total{reason="malformed"} 1`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestOAU05EmailPlusThroughGateway: the fake UEM's Email+ app
// configuration for the gateway holds OAU-05's key-value pairs; an
// Android Email+ device configured from them alone signs in through the
// gateway and syncs (OAU-06).
func TestOAU05EmailPlusThroughGateway(t *testing.T) {
	o := newOAuthWorld(t)
	host := strings.TrimPrefix(o.gw.DeviceURL(), "https://")
	var kvs []uemapi.KeyValue
	o.uemAdmin(http.MethodGet, "/gateways/gw1/emailplus-config?host="+url.QueryEscape(host)+"&cba_certificate=alice-cba", nil, &kvs)
	kv := map[string]string{}
	for _, p := range kvs {
		kv[p.Key] = p.Value
	}
	if kv["eas_min_allowed_auth_mode"] != "modern_auth" || kv["modern_auth_authority_url"] != "https://"+host+"/proxyservice" ||
		kv["modern_auth_resource_url"] != "https://"+host || kv["email_login_certificate"] != "alice-cba.pfx" {
		t.Fatalf("Email+ key-value pairs %v", kv)
	}
	d, err := device.New(device.Config{ID: "EMAILPLUSANDROID", User: "alice@corp.example", Password: "alice-pw", Platform: device.Android, Class: device.SecureApp,
		OAuth: &device.OAuthConfig{AuthorityURL: kv["modern_auth_authority_url"], Resource: kv["modern_auth_resource_url"]}}, o.gw.DeviceURL(), oauthDevice())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(context.Background()); err != nil {
		t.Fatalf("Email+ through the gateway: %v (%+v)", err, d.Last())
	}
	if n, _ := d.OAuthCounts(); n != 1 || len(d.Messages()) == 0 {
		t.Fatalf("%d sign-ins, %d messages", n, len(d.Messages()))
	}
}
