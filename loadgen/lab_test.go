package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/lab"
)

func startLab(t *testing.T, users int) *lab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := lab.Start(ctx, lab.Config{Users: users, MessagesPerUser: 4, CheckInterval: 2 * time.Second, ResyncInterval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		l.Close(ctx)
	})
	return l
}

func labUsers(l *lab.Lab) []User {
	var us []User
	for _, u := range l.Users() {
		us = append(us, User{Name: u.Name, Password: u.Password, Email: u.Email})
	}
	return us
}

// TestFleetThroughTheLabGateway runs a small mixed fleet through the
// lab's gateway: every command answers, Pings hang, nothing fails.
func TestFleetThroughTheLabGateway(t *testing.T) {
	l := startLab(t, 3)
	spec, err := ParseSpec([]byte(`
devices: 40
users: 3
duration: 4s
new_share: 0.5
mix:
  platforms: {iOS: 1, Android: 1}
  clients: {native: 2, secure_app: 1, unsecured_app: 1}
  versions: {"12.1": 1, "14.1": 2, "16.1": 1}
profiles:
  default: {ping_heartbeat: 2s, sync_rate: 1/s, sendmail_rate: 6/min, attachment_share: 0.5}
arrival: {shape: ramp, over: 1s}
thresholds:
  p99: {Sync: 1us}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Summary())
	total, failed := res.Totals()
	if res.DevicesArrived != 40 || failed != 0 || total < 100 {
		t.Errorf("arrived %d, %d of %d operations failed", res.DevicesArrived, failed, total)
	}
	for _, cmd := range []string{"Provision", "FolderSync", "Sync", "Ping", "SendMail"} {
		if h, _ := res.Histogram(cmd, nil); h.TotalCount() == 0 {
			t.Errorf("no %s measured", cmd)
		}
	}
	if res.ExitCode() != ExitThresholds {
		t.Errorf("a 1µs Sync p99 threshold held: exit %d", res.ExitCode())
	}
}

// TestFailOpenPreset: the UEM goes down under load; blocked devices stay
// blocked and new devices get in.
func TestFailOpenPreset(t *testing.T) {
	l := startLab(t, 3)
	spec, err := PresetSpec("failopen")
	if err != nil {
		t.Fatal(err)
	}
	spec.Devices, spec.Users, spec.Duration, spec.Arrival.Over = 60, 3, Duration(6*time.Second), Duration(5*time.Second)
	spec.Profiles["default"] = Profile{PingHeartbeat: Duration(2 * time.Second), SyncRate: 1}
	res, rep, err := RunFailOpen(context.Background(), l, spec, Options{Target: l.DeviceURL(), Users: labUsers(l), SourceAddrs: 2, RunID: "t1"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v\n%s", rep, res.Summary())
	if rep.WrongAllow != 0 || rep.WrongBlock != 0 || rep.BlockedChecks == 0 || rep.NewDuringOutage == 0 {
		t.Errorf("failopen: %+v", rep)
	}
}
