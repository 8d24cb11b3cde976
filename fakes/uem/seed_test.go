package uem

import (
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestLoadSeedFile(t *testing.T) {
	sd, err := LoadSeedFile("testdata/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Seed: sd})
	if err != nil {
		t.Fatal(err)
	}
	a := must[Association](t)(srv.FindAssociation("ALICEIPHONE0001", "alice@corp.example"))
	if a.DeviceUUID != "6f1c2a3e-0000-4000-8000-000000000001" || a.PolicyID != "execs" || a.Domain != "gw1" {
		t.Fatalf("seeded association %+v", a)
	}
	if p := must[uemapi.ActiveSyncPolicy](t)(srv.Policy("execs")); p.MinPasswordLength != 8 || p.MaxFailedAttempts != 8 {
		t.Fatalf("policy defaults not applied under the seed's fields: %+v", p)
	}
	if p := must[uemapi.ActiveSyncPolicy](t)(srv.Policy(uemapi.DefaultPolicyID)); p.MaxDevicesPerMailbox != 3 || p.Version != 2 {
		t.Fatalf("default policy: %+v", p)
	}
	g := must[GatewayEntry](t)(srv.Gateway("gw1"))
	if !g.Enabled || g.Config.ActiveSync.Services[0].Servers != "127.0.0.1:8443" || string(g.NotifySecret) != "gw1-notify-secret-change-me" {
		t.Fatalf("gateway %+v", g)
	}
	page := must[AssociationPage](t)(srv.Associations(AssociationFilter{}, "", 1000))
	if len(page.Items) != 101 {
		t.Fatalf("%d associations, want 1 seeded + 100 generated", len(page.Items))
	}
}

func TestLoadSeedRejects(t *testing.T) {
	for name, yml := range map[string]string{
		"unknown key":      "userz: []\n",
		"bad policy range": "policies:\n  - {name: X, min_complex_chars: 9}\n",
		"bad config":       "gateways:\n  - {id: g, host: h, config: {server_management: {dead_threshold: 0}}}\n",
		"too many":         "generate: {devices: 1000001}\n",
		"duplicate user":   "users:\n  - {id: a, upn: a@x}\n  - {id: a, upn: b@x}\n",
		// Issue 18: typos anywhere in the seed are errors, not dropped.
		"nested unknown key":  "users:\n  - {id: a, upn: a@x, emial: a@x}\n",
		"config typo":         "gateways:\n  - {id: g, host: h, config: {device_auth: {mode: pass_through, chek_crl: true}}}\n",
		"policy typo":         "policies:\n  - {name: X, min_pasword_length: 8}\n",
		"default policy typo": "policies:\n  - {id: default, name: Default, max_failed_atempts: 4}\n",
		"association typo":    "associations:\n  - {gateway: g, eas_device_id: E, user: a, acton: block}\n",
		"duplicate key":       "users: []\nusers: []\n",
		"gateway secret typo": "gateways:\n  - {id: g, host: h, notify_secert: s}\n",
	} {
		sd, err := LoadSeed(strings.NewReader(yml))
		if err == nil {
			_, err = New(Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Seed: sd})
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	gen := func(seed uint64) []Association {
		srv, err := New(Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Seed: &Seed{Generate: &Generate{Devices: 50, Seed: seed, ViolationPercent: 20}}})
		if err != nil {
			t.Fatal(err)
		}
		return must[AssociationPage](t)(srv.Associations(AssociationFilter{}, "", 100)).Items
	}
	a, b, c := gen(1), gen(1), gen(2)
	blocked := 0
	for i := range a {
		if a[i].DeviceID != b[i].DeviceID || a[i].DeviceUUID != b[i].DeviceUUID || a[i].State != b[i].State {
			t.Fatalf("record %d differs between runs: %+v vs %+v", i, a[i], b[i])
		}
		if !a[i].Registered || a[i].User != a[i].MailboxID {
			t.Fatalf("record %d: %+v", i, a[i])
		}
		if a[i].State == uemapi.StateBlocked {
			blocked++
		}
	}
	// A generated record behaves like any other: found again by its EAS id
	// and user, and a second user on a generated device is a new record
	// linked to it by EAS id.
	srv, err := New(Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Seed: &Seed{Generate: &Generate{Devices: 50, Seed: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := must[uemapi.Decision](t)(srv.st.reportDevice("gw", uemapi.DeviceReport{EASDeviceID: a[3].DeviceID, User: strings.ToUpper(a[3].User)})); d.FirstAccess || d.AssociationID != a[3].ID {
		t.Fatalf("generated record not found: %+v", d)
	}
	other := a[3].User // another generated user, known to the UEM (MMB-05)
	for _, r := range a {
		if r.User != a[3].User {
			other = r.User
			break
		}
	}
	d := must[uemapi.Decision](t)(srv.st.reportDevice("gw", uemapi.DeviceReport{EASDeviceID: a[3].DeviceID, User: other}))
	if !d.FirstAccess || !d.Registered || other == a[3].User {
		t.Fatalf("second user %s on a generated device: %+v", other, d)
	}
	if u := must[User](t)(srv.User(a[3].User)); u.UPN != a[3].User {
		t.Fatalf("generated user by id: %+v", u)
	}
	if a[0].DeviceID == c[0].DeviceID {
		t.Fatal("different seeds gave the same EAS id")
	}
	if blocked == 0 || blocked == len(a) {
		t.Fatalf("%d of %d blocked at 20%% violations", blocked, len(a))
	}
}
