package framework

import (
	"context"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

func TestRedactRemovesCredentials(t *testing.T) {
	for in, secret := range map[string]string{
		`Post "https://alice:alice-pw@127.0.0.1:8443/x": EOF`: "alice-pw",
		"Authorization: Basic YWxpY2U6YWxpY2UtcHc= rejected":  "YWxpY2U6YWxpY2UtcHc=",
		"authorization=Bearer tok-123 rejected":               "tok-123",
		"login failed: password=hunter2&user=bob":             "hunter2",
		`{"user":"bob","password":"hunter2"}`:                 "hunter2",
		"Cmd=Sync&User=bob&DeviceId=GH1&Pwd=hunter2 failed":   "hunter2",
	} {
		out := Redact(in)
		if strings.Contains(out, secret) {
			t.Errorf("Redact(%q) = %q still holds %q", in, out, secret)
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("Redact(%q) = %q: no [redacted] marker", in, out)
		}
	}
	plain := `Post "https://127.0.0.1:8443/Microsoft-Server-ActiveSync?Cmd=Sync&User=bob": connection reset`
	if got := Redact(plain); got != plain {
		t.Errorf("Redact changed a message without credentials: %q", got)
	}
}

// A failed spec's entry keeps the device's last maxEntryRoundTrips
// round trips, oldest first, and says how many it left out.
func TestRoundTripsKeepsTheLastOnes(t *testing.T) {
	ctx := t.Context()
	l, err := lab.Start(ctx, lab.Config{Users: 1, MessagesPerUser: 1, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	d, err := l.NewDevice(device.Config{ID: "GHCAP0001", User: l.Users()[0].Name})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for range maxEntryRoundTrips {
		if _, err := d.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	recs := d.Records()
	e := RoundTrips(d)
	if len(e.RoundTrips) != maxEntryRoundTrips || e.Omitted != len(recs)-maxEntryRoundTrips || e.Omitted <= 0 {
		t.Fatalf("%d round trips, %d omitted, of %d records", len(e.RoundTrips), e.Omitted, len(recs))
	}
	last := e.RoundTrips[len(e.RoundTrips)-1]
	if !last.At.Equal(recs[len(recs)-1].At.UTC()) || last.Cmd != "Sync" || last.HTTPStatus != 200 {
		t.Errorf("last round trip %+v, want the device's last Sync", last)
	}
	if e.Device != "GHCAP0001" || e.User != l.Users()[0].Name || e.Version != "14.1" {
		t.Errorf("entry header %+v", e)
	}
}
