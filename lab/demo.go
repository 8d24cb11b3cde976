package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// DemoCheckInterval and DemoResyncInterval are the gateway intervals
// `gatehouse lab --demo` runs with: short enough that the demo shows a
// resync within a minute.
const (
	DemoCheckInterval  = 2 * time.Second
	DemoResyncInterval = 5 * time.Second
)

// DemoStep is one step of the narrated demo, as the dashboard lists it
// before it runs: the narration's "N. title" line starts it.
type DemoStep struct {
	Title   string `json:"title"`
	Explain string `json:"explain"`
	run     func(*demo) error
}

// DemoSteps are RunDemo's steps, in order.
var DemoSteps = []DemoStep{
	{Title: "first access", run: func(d *demo) error { return d.firstAccess(d.users[0]) },
		Explain: "alice's iPhone, registered in the UEM, connects: the gateway asks the UEM, reports the device, lets it provision and sync. Then the admin turns on attachment encryption: the same attachment arrives encrypted and the UEM's key opens it to the same bytes."},
	{Title: "block", run: (*demo).block,
		Explain: "The admin blocks the phone in the UEM. The UEM notifies the gateway, whose cache turns B; the phone's next Sync gets Status 129. Then it is allowed again."},
	{Title: "wipe", run: func(d *demo) error { return d.wipe(d.users[1]) },
		Explain: "bob's Android phone is wiped from the UEM: told at its next request, it acknowledges and forgets its mail; the UEM shows Wiped."},
	{Title: "fail-open", run: func(d *demo) error { return d.failOpen(d.users[2]) },
		Explain: "The UEM goes down and carol's new tablet connects: the gateway cannot ask and lets it in (fail-open). The UEM comes back and the gateway reports the tablet: the two views converge."},
	{Title: "resync", run: (*demo).resync,
		Explain: "The UEM's notifications to the gateway are lost and the admin blocks the phone: the UEM says B, the gateway's cache still says A. The periodic resync brings the cache to B and the phone's next Sync gets Status 129. Notifications heal and the phone is allowed again."},
	{Title: "AppTunnel", run: func(d *demo) error { return d.appTunnel(d.users[0]) },
		Explain: "The UEM turns on an <ANY> app tunnel with context headers: alice's intranet app, holding an identity certificate from the UEM's CA, reaches an intranet page through the gateway, which tells the server who is calling. Then a traffic-control rule blocks that host and the gateway refuses the app (403, atc-blocked)."},
	{Title: "OAuth", run: func(d *demo) error { return d.oauth(d.users[1]) },
		Explain: "In a lab with an identity provider, bob's iPhone signs in with OAuth through the gateway's /proxyservice/oauth2 endpoints and syncs with its bearer token; without one the step is skipped."},
}

// RunDemo drives devices of the lab's first three users through first
// access, attachment encryption, block, wipe, fail-open, resync,
// AppTunnel and OAuth (when the lab has an identity provider), narrating on
// w what the gateway and the UEM do. It returns when the demo is over
// (the lab keeps running) or ctx ends.
func RunDemo(ctx context.Context, l *Lab, w io.Writer) error {
	users := l.Users()
	if len(users) < 3 {
		return errors.New("demo: the demo needs at least 3 users")
	}
	d := &demo{ctx: ctx, l: l, w: w, users: []string{users[0].Name, users[1].Name, users[2].Name}}
	for i, step := range DemoSteps {
		d.n, d.title = i+1, step.Title
		if err := step.run(d); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	d.say("done; the lab keeps running (Ctrl-C to stop)")
	return nil
}

// demo is one run of RunDemo.
type demo struct {
	ctx   context.Context
	l     *Lab
	w     io.Writer
	users []string // the lab's first three users: alice, bob, carol
	// n and title name the step running, for begin.
	n     int
	title string
	phone *device.Device  // alice's iPhone, from firstAccess on
	assoc uem.Association // its association
	// att is the attachment firstAccess fetched in clear, attPlain its
	// bytes: attachmentControl fetches the same one encrypted.
	att      device.Attachment
	attPlain []byte
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.w, "demo: "+format+"\n", a...) }

// begin narrates the start of the running step: "N. title: ..." is the
// line the dashboard files the step's narration under.
func (d *demo) begin(format string, a ...any) {
	d.say("%d. %s: "+format, append([]any{d.n, d.title}, a...)...)
}

// waitFor polls cond for at most 30 s.
func (d *demo) waitFor(what string, cond func() bool) error {
	return d.waitWithin(what, 30*time.Second, cond)
}

// waitWithin polls cond every 200 ms for at most within.
func (d *demo) waitWithin(what string, within time.Duration, cond func() bool) error {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		select {
		case <-d.ctx.Done():
			return d.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

// firstAccess: alice's phone, managed by the UEM (registered with its
// EAS id), connects; then attachment control encrypts its attachments.
func (d *demo) firstAccess(alice string) error {
	l, ctx := d.l, d.ctx
	if _, err := l.UEM.AddDevice(uem.Device{UUID: "demo-alice-iphone", UserID: alice, Platform: "iOS", Model: "iPhone", EASDeviceIDs: []string{"DEMOALICEIPHONE"}}); err != nil {
		return err
	}
	d.begin("%s's managed iPhone connects through the gateway", alice)
	d.phone, _ = l.NewDevice(device.Config{ID: "DEMOALICEIPHONE", User: alice, Platform: device.IOS})
	if err := d.phone.Connect(ctx); err != nil {
		return err
	}
	d.assoc, _ = l.UEM.FindAssociation(d.phone.ID(), alice)
	d.say("   the gateway reported it to the UEM: %s, %s; the phone provisioned and synced %d mails", d.assoc.Status, d.assoc.SyncStatus, len(d.phone.Messages()))
	for _, m := range d.phone.Messages() {
		if len(m.Attachments) == 0 {
			continue
		}
		i := slices.IndexFunc(m.Attachments, func(a device.Attachment) bool { return !embeddedMessage(a) })
		if i < 0 {
			continue
		}
		att := m.Attachments[i]
		data, ct, err := d.phone.FetchAttachment(ctx, att.FileReference)
		if err != nil {
			continue
		}
		d.att, d.attPlain = att, data
		d.say("   fetched attachment %q (%s, %d bytes) of %q, as Exchange sent it", att.Name, ct, len(data), m.Subject)
		break
	}
	if d.attPlain == nil {
		d.say("   no mail has an attachment: attachment control is not shown")
		return nil
	}
	return d.attachmentControl()
}

// embeddedMessage: a forwarded mail (.eml) is walked for its own
// attachments, never encrypted itself (ATT-19), so the demo shows a file.
func embeddedMessage(a device.Attachment) bool {
	return strings.HasSuffix(strings.ToLower(a.Name), ".eml")
}

// attachmentControl turns on "encrypt for iOS native email", fetches the
// same attachment again, checks it arrives encrypted and that the UEM's
// key decrypts it to exactly the bytes fetched before, then turns it off.
func (d *demo) attachmentControl() error {
	l := d.l
	d.say("   attachment control: the admin turns on \"Open only with Docs@Work and protect with encryption\" for iOS native email")
	entry, err := l.UEM.Gateway(l.GatewayID())
	if err != nil {
		return err
	}
	gc := entry.Config
	gc.AttachmentControl = uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachEncrypt,
		SecureApps: uemapi.AttachSecureApp, OtherPlatforms: uemapi.AttachDeliverAsIs, WorkDomains: []string{l.cfg.Domain}}
	if _, err := l.UEM.SetGatewayConfig(l.GatewayID(), gc); err != nil {
		return err
	}
	key := l.UEM.AttachmentKey()
	k, err := attachments.KeyFromUEM(&key)
	if err != nil {
		return err
	}
	ring, _ := attachments.NewKeyring(k)
	var enc []byte
	if err := d.waitFor("the attachment to arrive encrypted", func() bool {
		data, _, err := d.phone.FetchAttachment(d.ctx, d.att.FileReference)
		if err == nil && bytes.HasPrefix(data, []byte("GHAC")) {
			enc = data
			return true
		}
		return false
	}); err != nil {
		return err
	}
	var plain bytes.Buffer
	if err := attachments.DecryptStream(&plain, bytes.NewReader(enc), ring); err != nil {
		return fmt.Errorf("decrypt %q with the UEM's key: %w", d.att.Name, err)
	}
	if !bytes.Equal(plain.Bytes(), d.attPlain) {
		return fmt.Errorf("%q decrypted to %d bytes that differ from the %d bytes fetched before", d.att.Name, plain.Len(), len(d.attPlain))
	}
	d.say("   the same %q now reaches the phone encrypted (%d bytes, GHAC format); the UEM's key %s decrypts it to the %d bytes fetched before, byte for byte",
		d.att.Name, len(enc), k.ID, plain.Len())
	gc.AttachmentControl.Enabled = false
	_, err = l.UEM.SetGatewayConfig(l.GatewayID(), gc)
	return err
}

// block: the admin blocks alice's phone, then allows it again.
func (d *demo) block() error {
	l, ctx, phone := d.l, d.ctx, d.phone
	d.begin("the admin blocks the phone in the UEM")
	if _, err := l.UEM.Act(d.assoc.ID, uem.Action{Action: uem.ActBlock, Note: "demo: lost phone"}); err != nil {
		return err
	}
	if err := d.waitFor("the block", func() bool { _, err := phone.Sync(ctx); return errors.Is(err, device.ErrBlocked) }); err != nil {
		return err
	}
	d.say("   the UEM notified the gateway; the phone's next Sync got HTTP %d, Status %d (blocked)", phone.Last().HTTPStatus, phone.Last().Status)
	if _, err := l.UEM.Act(d.assoc.ID, uem.Action{Action: uem.ActAllow, Note: "demo: found"}); err != nil {
		return err
	}
	if err := d.waitFor("the allow", func() bool { _, err := phone.Sync(ctx); return err == nil }); err != nil {
		return err
	}
	d.say("   allowed again: the phone syncs")
	return nil
}

// wipe: bob's Android phone is wiped from the UEM.
func (d *demo) wipe(bob string) error {
	l, ctx := d.l, d.ctx
	d.begin("%s's Android phone is wiped from the UEM", bob)
	droid, _ := l.NewDevice(device.Config{ID: "DEMOBOBANDROID", User: bob, Platform: device.Android})
	if err := droid.Connect(ctx); err != nil {
		return err
	}
	b, _ := l.UEM.FindAssociation(droid.ID(), bob)
	if _, err := l.UEM.Act(b.ID, uem.Action{Action: uem.ActWipe, Note: "demo: stolen"}); err != nil {
		return err
	}
	if err := d.waitFor("the wipe", func() bool {
		_, err := droid.Sync(ctx)
		return droid.State() == device.Wiped || errors.Is(err, device.ErrWiped)
	}); err != nil {
		return err
	}
	if err := d.waitFor("the wipe acknowledgement", func() bool { b, _ = l.UEM.FindAssociation(droid.ID(), bob); return !b.WipeAcked.IsZero() }); err != nil {
		return err
	}
	d.say("   the phone was told to wipe on its next request, acknowledged and forgot its mail; the UEM shows %s, acknowledged %s", b.SyncStatus, b.WipeAcked.Format(time.TimeOnly))
	return nil
}

// failOpen: the UEM goes down and carol's new tablet is let in.
func (d *demo) failOpen(carol string) error {
	l := d.l
	d.begin("the UEM goes down and %s's new tablet connects", carol)
	if err := l.SetUEMDown(true); err != nil {
		return err
	}
	tab, _ := l.NewDevice(device.Config{ID: "DEMOCAROLTABLET", User: carol, Platform: device.Windows})
	if err := tab.Connect(d.ctx); err != nil {
		return err
	}
	d.say("   the gateway could not ask the UEM and let it in (fail-open): %d mails synced", len(tab.Messages()))
	if err := l.SetUEMDown(false); err != nil {
		return err
	}
	if err := d.waitFor("the UEM to learn the tablet", func() bool { _, err := l.UEM.FindAssociation(tab.ID(), carol); return err == nil }); err != nil {
		return err
	}
	d.say("   the UEM is back; the gateway reported the tablet and now holds its real state")
	return nil
}
