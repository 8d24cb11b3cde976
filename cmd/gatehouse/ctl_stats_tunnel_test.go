package main

import (
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// STA-01, STA-06 for tunnels (issue 21): `ctl stats entry <device-uuid>
// <user> tunnel` and `ctl stats global device tunnel` print the AppTunnel
// counters of the statistics CSV.
func TestSTA01CtlStatsShowsTheTunnelCounters(t *testing.T) {
	reg := stats.NewRegistry()
	d := reg.Device("62b6ae69-9ca8-4176-85dd-11a7ecaee130", "alice@corp.example")
	d.Add(stats.TunnelsOpened, 3)
	d.Inc(stats.TunnelsRefused)
	d.Add(stats.TunnelBytesUp, 120)
	d.Add(stats.TunnelBytesDown, 4096)
	reg.IncGlobal(stats.TunnelsRefused) // refused before authentication
	srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Stats: reg, Peaks: &stats.Peaks{}, Token: "tok"}))
	defer srv.Close()
	run := ctlRunner(t, srv.URL)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stats", "entry", "62b6ae69-9ca8-4176-85dd-11a7ecaee130", "alice@corp.example", "tunnel"},
			"tunnels-opened = 3\ntunnels-refused = 1\ntunnel-bytes-up = 120\ntunnel-bytes-down = 4096"},
		{[]string{"stats", "global", "device", "tunnel"}, "tunnels-opened = 3\ntunnels-refused = 2\ntunnel-bytes-up = 120\ntunnel-bytes-down = 4096"},
	} {
		if out, err := run(tc.args...); err != nil || out != tc.want {
			t.Fatalf("ctl %v: %v\n%s\nwant\n%s", tc.args, err, out, tc.want)
		}
	}
}
