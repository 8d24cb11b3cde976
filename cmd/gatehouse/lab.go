package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// newLabCmd runs a whole world for people: fake UEM, fake Exchange and the
// gateway, on fixed loopback ports, with nothing to configure.
func newLabCmd() *cobra.Command {
	cfg := lab.Config{
		GatewayListen: "127.0.0.1:8443", NotifyListen: "127.0.0.1:9090", GatewayAdminListen: "127.0.0.1:9091",
		UEMListen: "127.0.0.1:8600", UEMAdminListen: "127.0.0.1:8601",
		ExchangeListen: "127.0.0.1:8700", ExchangeAdminListen: "127.0.0.1:8701",
		Users: 4, MessagesPerUser: 12,
	}
	var asJSON, demo, subprocess bool
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a whole lab: fake UEM, fake Exchange and the gateway, on loopback",
		Long: `Run a fake UEM, a fake Exchange (demo mailboxes with attachments of several
types) and the reference gateway registered in that UEM, on fixed loopback
ports. Prints every URL and credential once everything is ready (--json: one
JSON document, see docs/lab.md). --demo drives a few devices through first
access, block, wipe and fail-open and narrates what happens. Stop with Ctrl-C.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if subprocess {
				cfg.Mode = lab.Subprocess
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				cfg.Binary = exe
			}
			if demo { // short enough that the demo shows resync within a minute
				cfg.CheckInterval, cfg.ResyncInterval = 2*time.Second, 5*time.Second
			}
			l, err := lab.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				l.Close(sctx)
			}()
			out, narr := cmd.OutOrStdout(), cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(l.Endpoints()); err != nil {
					return err
				}
				narr = cmd.ErrOrStderr()
			} else {
				printEndpoints(out, l.Endpoints())
			}
			if demo {
				if err := runDemo(ctx, l, narr); err != nil && !errors.Is(err, context.Canceled) {
					return fmt.Errorf("demo: %w", err)
				}
			}
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print one JSON document with endpoints, tokens and the demo users' credentials")
	f.BoolVar(&demo, "demo", false, "drive devices through first access, block, wipe and fail-open, narrating")
	f.BoolVar(&subprocess, "gateway-subprocess", false, "run the gateway as a subprocess of this binary (restart / kill -9 are real)")
	f.BoolVar(&cfg.HTTP2, "http2", false, "the fake Exchange offers HTTP/2 and the gateway multiplexes its upstream requests on it")
	f.StringVar(&cfg.Dir, "dir", "", "working directory (gateway data, logs); temporary when empty")
	f.IntVar(&cfg.Users, "users", cfg.Users, "demo users (alice, bob, carol, dave, ...)")
	f.IntVar(&cfg.MessagesPerUser, "messages", cfg.MessagesPerUser, "generated mails per mailbox")
	f.StringVar(&cfg.GatewayListen, "gateway-listen", cfg.GatewayListen, "gateway device-facing address")
	f.StringVar(&cfg.NotifyListen, "notify-listen", cfg.NotifyListen, "gateway notification address")
	f.StringVar(&cfg.GatewayAdminListen, "gateway-admin-listen", cfg.GatewayAdminListen, "gateway admin API address")
	f.StringVar(&cfg.UEMListen, "uem-listen", cfg.UEMListen, "UEM gateway API address")
	f.StringVar(&cfg.UEMAdminListen, "uem-admin-listen", cfg.UEMAdminListen, "UEM admin API address")
	f.StringVar(&cfg.ExchangeListen, "exchange-listen", cfg.ExchangeListen, "Exchange ActiveSync address")
	f.StringVar(&cfg.ExchangeAdminListen, "exchange-admin-listen", cfg.ExchangeAdminListen, "Exchange admin API address")
	return cmd
}

func printEndpoints(w io.Writer, e lab.Endpoints) {
	fmt.Fprintf(w, "gatehouse lab (%s gateway), working directory %s\n\n", e.Mode, e.Dir)
	fmt.Fprintf(w, "gateway   ActiveSync  %s\n          admin API   %s  token %s\n          notify      %s\n",
		e.Gateway.ActiveSyncURL, e.Gateway.AdminURL, e.Gateway.AdminToken, e.Gateway.NotifyURL)
	fmt.Fprintf(w, "UEM       gateway API %s  gateway %s token %s\n          admin API   %s  token %s\n",
		e.UEM.GatewayAPIURL, e.UEM.GatewayID, e.UEM.GatewayToken, e.UEM.AdminURL, e.UEM.AdminToken)
	fmt.Fprintf(w, "Exchange  ActiveSync  %s\n          admin API   %s  token %s\n\nusers (ActiveSync user / password / email):\n",
		e.Exchange.ActiveSyncURL, e.Exchange.AdminURL, e.Exchange.AdminToken)
	for _, u := range e.Users {
		fmt.Fprintf(w, "  %-8s %-12s %s\n", u.Name, u.Password, u.Email)
	}
	fmt.Fprintf(w, "\ngatehouse ctl --admin %s --token %s device-cache dump all\n", e.Gateway.AdminURL, e.Gateway.AdminToken)
}

// runDemo drives devices through the flows a demo shows, narrating.
func runDemo(ctx context.Context, l *lab.Lab, w io.Writer) error {
	say := func(format string, a ...any) { fmt.Fprintf(w, "demo: "+format+"\n", a...) }
	waitFor := func(what string, cond func() bool) error {
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				return fmt.Errorf("timed out waiting for %s", what)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		return nil
	}
	users := l.Users()
	if len(users) < 3 {
		return errors.New("the demo needs at least 3 users")
	}
	alice, bob, carol := users[0].Name, users[1].Name, users[2].Name
	// Alice's phone is managed by the UEM: registered with its EAS id.
	if _, err := l.UEM.AddDevice(uem.Device{UUID: "demo-alice-iphone", UserID: alice, Platform: "iOS", Model: "iPhone", EASDeviceIDs: []string{"DEMOALICEIPHONE"}}); err != nil {
		return err
	}

	say("1. first access: %s's managed iPhone connects through the gateway", alice)
	phone, _ := l.NewDevice(device.Config{ID: "DEMOALICEIPHONE", User: alice, Platform: device.IOS})
	if err := phone.Connect(ctx); err != nil {
		return err
	}
	a, _ := l.UEM.FindAssociation(phone.ID(), alice)
	say("   the gateway reported it to the UEM: %s, %s; the phone provisioned and synced %d mails", a.Status, a.SyncStatus, len(phone.Messages()))
	for _, m := range phone.Messages() {
		if len(m.Attachments) > 0 {
			data, ct, err := phone.FetchAttachment(ctx, m.Attachments[0].FileReference)
			if err == nil {
				say("   fetched attachment %q (%s, %d bytes) from %q", m.Attachments[0].Name, ct, len(data), m.Subject)
				break
			}
		}
	}
	say("   attachment control: the admin turns on \"Open only with Docs@Work and protect with encryption\" for iOS native email")
	entry, err := l.UEM.Gateway(l.GatewayID())
	if err != nil {
		return err
	}
	gc := entry.Config
	gc.AttachmentControl = uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachEncrypt,
		SecureApps: uemapi.AttachSecureApp, OtherPlatforms: uemapi.AttachDeliverAsIs, WorkDomains: []string{"corp.example"}}
	if _, err := l.UEM.SetGatewayConfig(l.GatewayID(), gc); err != nil {
		return err
	}
	k, err := attachments.KeyFromUEM(ptr(l.UEM.AttachmentKey()))
	if err != nil {
		return err
	}
	ring, _ := attachments.NewKeyring(k)
	var shown bool
	if err := waitFor("encrypted attachments", func() bool {
		for _, m := range phone.Messages() {
			for _, att := range m.Attachments {
				data, _, err := phone.FetchAttachment(ctx, att.FileReference)
				if err != nil || !bytes.HasPrefix(data, []byte("GHAC")) {
					continue
				}
				var plain bytes.Buffer
				if err := attachments.DecryptStream(&plain, bytes.NewReader(data), ring); err != nil {
					continue
				}
				say("   %q now reaches the phone encrypted (%d bytes, GHAC format); the UEM's key %s opens it again (%d bytes)",
					att.Name, len(data), k.ID, plain.Len())
				shown = true
				return true
			}
		}
		return false
	}); err != nil || !shown {
		say("   attachment encryption could not be shown: %v", err)
	}
	gc.AttachmentControl.Enabled = false
	if _, err := l.UEM.SetGatewayConfig(l.GatewayID(), gc); err != nil {
		return err
	}

	say("2. block: the admin blocks the phone in the UEM")
	if _, err := l.UEM.Act(a.ID, uem.Action{Action: uem.ActBlock, Note: "demo: lost phone"}); err != nil {
		return err
	}
	if err := waitFor("the block", func() bool { _, err := phone.Sync(ctx); return errors.Is(err, device.ErrBlocked) }); err != nil {
		return err
	}
	say("   the UEM notified the gateway; the phone's next Sync got HTTP %d, Status %d (blocked)", phone.Last().HTTPStatus, phone.Last().Status)
	if _, err := l.UEM.Act(a.ID, uem.Action{Action: uem.ActAllow, Note: "demo: found"}); err != nil {
		return err
	}
	if err := waitFor("the allow", func() bool { _, err := phone.Sync(ctx); return err == nil }); err != nil {
		return err
	}
	say("   allowed again: the phone syncs")

	say("3. wipe: %s's Android phone is wiped from the UEM", bob)
	droid, _ := l.NewDevice(device.Config{ID: "DEMOBOBANDROID", User: bob, Platform: device.Android})
	if err := droid.Connect(ctx); err != nil {
		return err
	}
	b, _ := l.UEM.FindAssociation(droid.ID(), bob)
	if _, err := l.UEM.Act(b.ID, uem.Action{Action: uem.ActWipe, Note: "demo: stolen"}); err != nil {
		return err
	}
	if err := waitFor("the wipe", func() bool {
		_, err := droid.Sync(ctx)
		return droid.State() == device.Wiped || errors.Is(err, device.ErrWiped)
	}); err != nil {
		return err
	}
	if err := waitFor("the wipe acknowledgement", func() bool { b, _ = l.UEM.FindAssociation(droid.ID(), bob); return !b.WipeAcked.IsZero() }); err != nil {
		return err
	}
	say("   the phone was told to wipe on its next request, acknowledged and forgot its mail; the UEM shows %s, acknowledged %s", b.SyncStatus, b.WipeAcked.Format(time.TimeOnly))

	say("4. fail-open: the UEM goes down and %s's new tablet connects", carol)
	if err := l.SetUEMDown(true); err != nil {
		return err
	}
	tab, _ := l.NewDevice(device.Config{ID: "DEMOCAROLTABLET", User: carol, Platform: device.Windows})
	if err := tab.Connect(ctx); err != nil {
		return err
	}
	say("   the gateway could not ask the UEM and let it in (fail-open): %d mails synced", len(tab.Messages()))
	if err := l.SetUEMDown(false); err != nil {
		return err
	}
	if err := waitFor("the UEM to learn the tablet", func() bool { _, err := l.UEM.FindAssociation(tab.ID(), carol); return err == nil }); err != nil {
		return err
	}
	say("   the UEM is back; the gateway reported the tablet and now holds its real state")
	say("done; the lab keeps running (Ctrl-C to stop)")
	return nil
}

func ptr[T any](v T) *T { return &v }
