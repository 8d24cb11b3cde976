package loadgen

import (
	"context"
	"strings"
	"testing"
)

// TestMixedMailAndAppFleetThroughTheLab runs a small fleet mixing mail
// devices and AppTunnel app devices (an HTTP app through <ANY>, a TCP
// echo app through <TCP_ANY>) through the lab's gateway: both kinds of
// operation are counted and nothing fails. The run ends once every device
// arrived and each kind was measured, at most 60 s: a fixed 6 s ended
// with no tunnel operation done on a loaded machine (-race, load 21),
// each in flight for 4-5 s.
func TestMixedMailAndAppFleetThroughTheLab(t *testing.T) {
	l := startLab(t, 2)
	be, err := l.StartAppTraffic()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(be.Close)
	spec, err := ParseSpec([]byte(`
devices: 12
users: 2
duration: 60s
mix:
  clients: {native: 1}
profiles:
  default: {sync_rate: 1/s}
arrival: {shape: ramp, over: 1s}
apps: {share: 0.5, http_rate: 1/s, tcp_rate: 1/s}
`))
	if err != nil {
		t.Fatal(err)
	}
	apps := &AppTargets{Tunnel: be.Tunnel, HTTPURL: be.HTTPURL, TCPAddr: be.TCPAddr, Cert: l.AppCertificate}
	clients, err := CertClients(l.DeviceURL(), labUsers(l), apps)
	if err != nil {
		t.Fatal(err)
	}
	commands := []string{"Sync", CmdAppHTTP, CmdAppTCP}
	enough := untilMeasured(func(r *Results) bool {
		for _, cmd := range commands {
			if count(r, cmd) == 0 {
				return false
			}
		}
		return r.DevicesArrived >= 12
	})
	res, err := Run(context.Background(), spec, Options{Target: l.DeviceURL(), Users: labUsers(l), Clients: clients, Apps: apps, Tick: enough})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Summary())
	total, failed := res.Totals()
	if res.DevicesArrived != 12 || failed != 0 {
		t.Errorf("arrived %d, %d of %d operations failed", res.DevicesArrived, failed, total)
	}
	for _, cmd := range commands {
		if h, _ := res.Histogram(cmd, nil); h.TotalCount() == 0 {
			t.Errorf("no %s measured", cmd)
		}
	}
}

// TestAppsSpecValidated: the apps section is checked like the rest.
func TestAppsSpecValidated(t *testing.T) {
	for _, c := range []struct{ yaml, field string }{
		{"apps: {share: 1.5, http_rate: 1/s}", "apps.share"},
		{"apps: {share: 0.5}", "apps"},
		{"apps: {share: 0.5, http_rate: 1/s, bogus: 1}", "bogus"},
	} {
		_, err := ParseSpec([]byte("devices: 2\nduration: 1s\n" + c.yaml + "\n"))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want an error naming %s", c.yaml, err, c.field)
		}
	}
}
