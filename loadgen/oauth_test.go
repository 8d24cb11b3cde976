package loadgen

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/lab"
)

// TestMixAuth: mix.auth mixes Basic and OAuth devices; unknown modes are
// refused naming the field; OAuth devices sign in through the target's
// /proxyservice (OAU-05).
func TestMixAuth(t *testing.T) {
	src := strings.Replace(goodSpec, `  versions: {"14.1": 70, "16.1": 30}`, `  versions: {"14.1": 70, "16.1": 30}`+"\n  auth: {basic: 1, oauth: 1}", 1)
	s, err := ParseSpec([]byte(src))
	if err != nil || s.Mix.Auth["oauth"] != 1 {
		t.Fatalf("%v %+v", err, s)
	}
	_, err = ParseSpec([]byte(strings.Replace(src, "oauth: 1", "ntlm: 1", 1)))
	var fe *FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "mix.auth.ntlm") {
		t.Fatalf("unknown auth mode: %v", err)
	}
	if c := oauthThrough("https://gw.example:8443/"); c.AuthorityURL != "https://gw.example:8443/proxyservice" || c.Resource != "https://gw.example:8443" {
		t.Fatalf("%+v", c)
	}
}

// TestFleetMixesBasicAndOAuth: a fleet with mix.auth runs Basic and OAuth
// devices side by side through an OAuth lab's gateway without failures;
// the OAuth ones signed in at the IdP through the gateway. A fleet run
// (seconds even idle, more under -race on a loaded machine), so opt-in:
//
//	GATEHOUSE_OAUTH_FLEET=1 go test -count=1 -run FleetMixes -v ./loadgen/
func TestFleetMixesBasicAndOAuth(t *testing.T) {
	if os.Getenv("GATEHOUSE_OAUTH_FLEET") == "" {
		t.Skip("fleet run: set GATEHOUSE_OAUTH_FLEET=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{Users: 3, MessagesPerUser: 2, OAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	spec, err := ParseSpec([]byte(`
devices: 12
users: 3
duration: 5s
new_share: 1
mix:
  platforms: {iOS: 1, Android: 1}
  clients: {native: 1, secure_app: 1}
  auth: {basic: 1, oauth: 1}
profiles:
  default: {ping_heartbeat: 0s, sync_rate: 1/s}
arrival: {shape: ramp, over: 500ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), spec, Options{Target: l.DeviceURL(), Users: labUsers(l)})
	if err != nil {
		t.Fatal(err)
	}
	total, failed := res.Totals()
	t.Log("\n" + res.Summary())
	if res.DevicesArrived != 12 || failed != 0 || total == 0 {
		t.Fatalf("arrived %d, %d of %d operations failed\n%s", res.DevicesArrived, failed, total, res.Summary())
	}
	if n := l.IdP.Counts().SignIns; n == 0 || n == 12 {
		t.Fatalf("%d of 12 devices signed in with OAuth: the mix is not mixed", n)
	}
}
