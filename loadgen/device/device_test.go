package device_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// The device is tested straight against the fake Exchange: no gateway.

func newExchange(t *testing.T) (*exchange.Server, *http.Client) {
	t.Helper()
	x, err := exchange.New(exchange.Config{Users: []exchange.User{
		{Name: "alice", Password: "alice-pw"}, {Name: "bob", Password: "bob-pw"},
	}, MessagesPerUser: 6, Seed: 3, MinHeartbeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Shutdown(context.Background()) })
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x.CertPool()}}}
	t.Cleanup(hc.CloseIdleConnections)
	return x, hc
}

func TestLifecycleEveryVersion(t *testing.T) {
	x, hc := newExchange(t)
	ctx := context.Background()
	for i, v := range eas.Versions() {
		for _, b64 := range []bool{false, true} {
			id := "DEV" + v.String()[:2] + v.String()[3:] + map[bool]string{false: "P", true: "B"}[b64]
			d, err := device.New(device.Config{ID: id, User: "alice", Password: "alice-pw", Version: v, Base64Query: b64,
				Platform: []device.Platform{device.IOS, device.Android, device.Windows, device.Other, device.IOS}[i]}, x.URL(), hc)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Connect(ctx); err != nil {
				t.Fatalf("%s: connect: %v (%+v)", id, err, d.Last())
			}
			if d.Policy() == nil || d.PolicyKey() == "" {
				t.Fatalf("%s: no policy applied", id)
			}
			if n := len(d.Messages()); n != 6 {
				t.Fatalf("%s: synced %d messages, want 6", id, n)
			}
		}
	}
}

func TestAttachmentSendMailAndPing(t *testing.T) {
	x, hc := newExchange(t)
	ctx := context.Background()
	alice, _ := device.New(device.Config{ID: "ALICE1", User: "alice", Password: "alice-pw", Email: "alice@example.test"}, x.URL(), hc)
	bob, _ := device.New(device.Config{ID: "BOB1", User: "bob", Password: "bob-pw", Class: device.SecureApp}, x.URL(), hc)
	for _, d := range []*device.Device{alice, bob} {
		if err := d.Connect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Attachment: what the device fetched is what the generator made.
	var fetched int
	want := map[string][][]byte{} // several messages may carry a same-named attachment
	for _, g := range x.Generated("alice") {
		if g.Kind != "attachments" {
			continue
		}
		for _, a := range g.Attachments {
			want[a.Name] = append(want[a.Name], a.Data)
		}
	}
	for _, m := range alice.Messages() {
		for _, a := range m.Attachments {
			data, _, err := alice.FetchAttachment(ctx, a.FileReference)
			if err != nil {
				t.Fatalf("fetch %s: %v", a.Name, err)
			}
			if w, ok := want[a.Name]; ok && !slices.ContainsFunc(w, func(b []byte) bool { return bytes.Equal(b, data) }) {
				t.Fatalf("attachment %s differs", a.Name)
			}
			fetched++
		}
	}
	if fetched == 0 {
		t.Fatal("no attachment in alice's mailbox")
	}
	// A held Ping is woken by a mail bob sends.
	type pr struct {
		st  int
		err error
	}
	done := make(chan pr, 1)
	go func() {
		st, _, err := alice.Ping(ctx, 30)
		done <- pr{st, err}
	}()
	gomega.NewWithT(t).Eventually(x.WaitingPings).WithTimeout(20*time.Second).Should(gomega.BeNumerically(">", 0), "the Ping held")
	if err := bob.SendMail(ctx, []string{"alice@example.test"}, "hello from bob", "hi"); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.st != 2 {
		t.Fatalf("ping: %d %v", r.st, r.err)
	}
	if n, err := alice.Sync(ctx); err != nil || n != 1 {
		t.Fatalf("sync after ping: %d %v", n, err)
	}
	if got := alice.Messages(); got[len(got)-1].Subject != "hello from bob" {
		t.Fatalf("last message %q", got[len(got)-1].Subject)
	}
}

func TestWipeForgetsAndRecords(t *testing.T) {
	x, hc := newExchange(t)
	ctx := context.Background()
	var seen []device.RoundTrip
	d, _ := device.New(device.Config{ID: "WIPEME", User: "bob", Password: "bob-pw", Version: eas.V161,
		OnRoundTrip: func(e device.RoundTrip) { seen = append(seen, e) }}, x.URL(), hc)
	if err := d.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Wipe("bob", "WIPEME", false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Sync(ctx); !errors.Is(err, device.ErrWiped) {
		t.Fatalf("sync after wipe order: %v", err)
	}
	if d.State() != device.Wiped || len(d.Messages()) != 0 || d.PolicyKey() != "" {
		t.Fatalf("device kept data after wipe: %v %d", d.State(), len(d.Messages()))
	}
	if !d.Saw(eas.CmdSync, 200, int(eas.StatusRemoteWipeRequested)) {
		t.Fatalf("no Sync answered 140 in %+v", d.Records())
	}
	var ps []exchange.Partnership
	for _, p := range x.Partnerships() {
		if p.DeviceID == "WIPEME" {
			ps = append(ps, p)
		}
	}
	if len(ps) != 1 || ps[0].WipeAcked.IsZero() {
		t.Fatalf("exchange did not record the wipe acknowledgement: %+v", ps)
	}
	// A wiped partnership gets 403: the device records it and stops.
	if err := d.FolderSync(ctx); !errors.Is(err, device.ErrBlocked) || d.Last().HTTPStatus != 403 {
		t.Fatalf("after wipe: %v %+v", err, d.Last())
	}
	if len(seen) != len(d.Records()) || seen[0].Cmd != eas.CmdProvision || seen[0].BytesOut == 0 || seen[0].BytesIn == 0 {
		t.Fatalf("records: %d seen, %d kept, first %+v", len(seen), len(d.Records()), seen[0])
	}
}

func TestConfigValidation(t *testing.T) {
	for _, id := range []string{"", "has-dash", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"} {
		if _, err := device.New(device.Config{ID: id, User: "u"}, "https://x", nil); err == nil {
			t.Errorf("id %q accepted", id)
		}
	}
	if _, err := device.New(device.Config{ID: "A", User: "u", Platform: "BeOS"}, "https://x", nil); err == nil {
		t.Error("unknown platform accepted")
	}
}

// A full wipe and an account-only wipe are recorded as what they are, so
// that a spec can tell a gateway that sends one for the other.
func TestWipeRecordsTheElementReceived(t *testing.T) {
	x, hc := newExchange(t)
	ctx := context.Background()
	for _, tc := range []struct {
		id          string
		accountOnly bool
		want        device.WipeKind
	}{{"FULLWIPE", false, device.FullWipe}, {"ACCTWIPE", true, device.AccountOnlyWipe}} {
		d, _ := device.New(device.Config{ID: tc.id, User: "bob", Password: "bob-pw", Version: eas.V161}, x.URL(), hc)
		if err := d.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if len(d.Wipes()) != 0 {
			t.Fatalf("%s: wipes before any order: %v", tc.id, d.Wipes())
		}
		if _, err := x.Wipe("bob", tc.id, tc.accountOnly); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Sync(ctx); !errors.Is(err, device.ErrWiped) {
			t.Fatalf("%s: sync after wipe order: %v", tc.id, err)
		}
		if got := d.Wipes(); len(got) != 1 || got[0] != tc.want {
			t.Fatalf("%s: recorded %v, want [%s]", tc.id, got, tc.want)
		}
	}
}
