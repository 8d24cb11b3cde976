package uem

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func mmbServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Seed: &Seed{
		Users: []User{
			{ID: "alice", UPN: "alice@corp.example", Email: "alice@corp.example", Custom1: "shared@corp.example", Custom2: "shared@corp.example"},
			{ID: "shared", UPN: "shared@corp.example", Email: "shared@corp.example"},
		},
		Devices: []Device{
			{UUID: "d-phone", UserID: "alice", Platform: "iOS", EASDeviceIDs: []string{"PHONE"}},
			{UUID: "d-tablet", UserID: "alice", Platform: "iOS", EASDeviceIDs: []string{"TABLET"}},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMMB07ExtraAccountThroughCustomVariables(t *testing.T) {
	s := mmbServer(t)
	accts, err := s.ExchangeAccounts("alice")
	if err != nil || len(accts) != 2 || accts[1].UserName != "shared@corp.example" || accts[1].Email != "shared@corp.example" {
		t.Fatalf("%v %+v", err, accts)
	}
	if a, _ := s.ExchangeAccounts("shared"); len(a) != 1 {
		t.Fatalf("no custom attributes, no extra account: %+v", a)
	}
	if got := Expand("$USER_CUSTOM1$ <$USER_CUSTOM2$>", User{Custom1: "u", Custom2: "e"}); got != "u <e>" {
		t.Fatal(got)
	}
}

// TestMMB01MMB03ViolationBlocksEveryAccountOnTheDevice: two accounts on
// one device are two records; a violation of that device blocks both, the
// same user on a compliant device stays allowed, and clearing the
// violation allows both again.
func TestMMB01MMB03ViolationBlocksEveryAccountOnTheDevice(t *testing.T) {
	s := mmbServer(t)
	for _, r := range []uemapi.DeviceReport{
		{EASDeviceID: "PHONE", User: "alice@corp.example"},
		{EASDeviceID: "PHONE", User: "shared@corp.example"},
		{EASDeviceID: "TABLET", User: "alice@corp.example"},
	} {
		if d, err := s.st.reportDevice("gw", r); err != nil || d.State != uemapi.StateAllowed || !d.Registered {
			t.Fatalf("%+v: %v %+v", r, err, d)
		}
	}
	if _, err := s.st.setViolation("d-phone", true); err != nil {
		t.Fatal(err)
	}
	state := func(dev, user string) uemapi.SyncState {
		a, err := s.FindAssociation(dev, user)
		if err != nil {
			t.Fatal(err)
		}
		return a.State
	}
	if state("PHONE", "alice@corp.example") != uemapi.StateBlocked || state("PHONE", "shared@corp.example") != uemapi.StateBlocked {
		t.Fatal("a violation must block every account on the device")
	}
	if state("TABLET", "alice@corp.example") != uemapi.StateAllowed {
		t.Fatal("the same user on a compliant device stays allowed")
	}
	_, _ = s.st.setViolation("d-phone", false)
	if state("PHONE", "shared@corp.example") != uemapi.StateAllowed {
		t.Fatal("the violation gone, every account is allowed again")
	}
}

// TestMMB09UnregisteredWindowsDevicesFollowAutoBlock: a Windows 7 / 8
// device cannot register; it syncs while Auto Block Unregistered Devices
// is off (the default) and is blocked once it is on.
func TestMMB09UnregisteredWindowsDevicesFollowAutoBlock(t *testing.T) {
	s := mmbServer(t)
	d, err := s.st.reportDevice("gw", uemapi.DeviceReport{EASDeviceID: "WIN7PC", User: "shared@corp.example", DeviceType: "WindowsMail", OS: "Windows 7"})
	if err != nil || d.State != uemapi.StateAllowed || d.Registered {
		t.Fatalf("default: %v %+v", err, d)
	}
	p := s.Preferences()
	p.AutoBlockUnregistered = true
	if _, err := s.SetPreferences(p); err != nil {
		t.Fatal(err)
	}
	d, err = s.st.reportDevice("gw", uemapi.DeviceReport{EASDeviceID: "WIN8RT", User: "shared@corp.example", DeviceType: "WindowsRT"})
	if err != nil || d.State != uemapi.StateBlocked || d.Reason != uemapi.ReasonUnregistered {
		t.Fatalf("with auto-block: %v %+v", err, d)
	}
}

func TestReportBatchIsAllOrNothing(t *testing.T) {
	s := mmbServer(t)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	g, err := s.AddGateway(GatewayEntry{ID: "int", Host: "127.0.0.1", Enabled: true, Token: "integrated-token-123"})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}}}
	c, _ := uemapi.NewClient(s.GatewayURL(), g.Token, uemapi.WithHTTPClient(hc))
	ctx := context.Background()
	_, err = c.ReportDevices(ctx, []uemapi.DeviceReport{{EASDeviceID: "OK1", User: "alice@corp.example"}, {EASDeviceID: "", User: "alice@corp.example"}})
	var e *uemapi.Error
	if !errors.As(err, &e) || e.Field != "items[1]" {
		t.Fatalf("an invalid item: %v", err)
	}
	if _, err := s.FindAssociation("OK1", "alice@corp.example"); err == nil {
		t.Fatal("a refused batch must apply nothing")
	}
	decs, err := c.ReportDevices(ctx, []uemapi.DeviceReport{{EASDeviceID: "OK1", User: "alice@corp.example"}, {EASDeviceID: "OK2", User: "shared@corp.example"}})
	if err != nil || len(decs) != 2 || decs[1].EASDeviceID != "OK2" || !decs[0].FirstAccess {
		t.Fatalf("%v %+v", err, decs)
	}
}

// TestMMB05ExtraAccountNeedsAUEMUser: an extra account on a registered
// device is linked to it only when its user exists in the UEM; an
// account of a user the UEM does not know stays unregistered, and with
// auto-block on it is blocked while the known users' accounts on the
// same device are allowed.
func TestMMB05ExtraAccountNeedsAUEMUser(t *testing.T) {
	for _, autoBlock := range []bool{false, true} {
		s := mmbServer(t)
		p := s.Preferences()
		p.AutoBlockUnregistered = autoBlock
		if _, err := s.SetPreferences(p); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			user       string
			registered bool
			state      uemapi.SyncState
		}{
			{"alice@corp.example", true, uemapi.StateAllowed},
			{"shared@corp.example", true, uemapi.StateAllowed},
			{"stranger@corp.example", false, map[bool]uemapi.SyncState{false: uemapi.StateAllowed, true: uemapi.StateBlocked}[autoBlock]},
		} {
			d, err := s.st.reportDevice("gw", uemapi.DeviceReport{EASDeviceID: "PHONE", User: tc.user})
			if err != nil || d.Registered != tc.registered || d.State != tc.state {
				t.Errorf("auto-block %v, %s on the registered PHONE: %v %+v, want registered %v, %s", autoBlock, tc.user, err, d, tc.registered, tc.state)
			}
		}
	}
}
