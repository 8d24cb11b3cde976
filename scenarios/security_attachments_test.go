package scenarios_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// securityControl is attachment control with both rewriting options in
// use: Encrypt for iOS native mail, Remove for other platforms.
var securityControl = uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachEncrypt, SecureApps: uemapi.AttachSecureApp,
	OtherPlatforms: uemapi.AttachRemove, ExclusionList: []string{"ics"}, WorkDomains: []string{"corp.example"}}

// controlled are the device classes whose attachments the gateway
// rewrites under securityControl, with the option that applies.
var controlled = map[string]func(*device.Config){
	"iOS native mail (Encrypt)":  func(c *device.Config) { c.Platform, c.Class = device.IOS, device.Native },
	"Android unsecured (Remove)": func(c *device.Config) { c.Platform, c.Class = device.Android, device.UnsecureApp },
}

// rawSync runs a Sync of d's Inbox from SyncKey 0 with the given options
// (body preferences, MIME support) outside the device's own sync state,
// as another client of the same device would, and returns the items.
// d must have connected (policy key, Inbox). It resets the Inbox's sync
// state of d at Exchange: use it after d's own Syncs.
func rawSync(f *fw.Framework, d *device.Device, opts eas.SyncOptions) ([]eas.SyncItem, int, error) {
	col := eas.SyncCollection{SyncKey: "0", CollectionId: d.Inbox()}
	first, code, err := syncAs(f, d, col)
	if err != nil || code != http.StatusOK {
		return nil, code, err
	}
	col.SyncKey, col.WindowSize, col.Options = "", 100, []eas.SyncOptions{opts}
	for _, c := range first.Collections {
		col.SyncKey = c.SyncKey
	}
	resp, code, err := syncAs(f, d, col)
	if err != nil || code != http.StatusOK {
		return nil, code, err
	}
	var items []eas.SyncItem
	for _, c := range resp.Collections {
		if c.Commands != nil {
			items = append(items, c.Commands.Add...)
		}
	}
	return items, code, nil
}

func syncAs(f *fw.Framework, d *device.Device, col eas.SyncCollection) (*eas.SyncResponse, int, error) {
	cfg := d.Config()
	body, err := wbxml.MarshalStruct(&eas.SyncRequest{Collections: []eas.SyncCollection{col}})
	Expect(err).NotTo(HaveOccurred())
	q := &eas.Query{Cmd: eas.CmdSync, User: d.User(), DeviceID: d.ID(), DeviceType: cfg.DeviceType()}
	req, err := http.NewRequest(http.MethodPost, f.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.SetBasicAuth(d.User(), cfg.Password)
	req.Header.Set("User-Agent", cfg.UserAgent())
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	req.Header.Set(eas.HeaderProtocolVersion, cfg.Version.String())
	req.Header.Set(eas.HeaderPolicyKey, d.PolicyKey())
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, err
	}
	var sr eas.SyncResponse
	if err := wbxml.UnmarshalStruct(b, &sr, wbxml.Limits{}); err != nil {
		return nil, resp.StatusCode, err
	}
	return &sr, resp.StatusCode, nil
}

// bySubject finds the synced item with this subject.
func bySubject(items []eas.SyncItem, subject string) *eas.EmailData {
	for _, it := range items {
		if it.ApplicationData != nil && it.ApplicationData.Subject == subject {
			return it.ApplicationData
		}
	}
	return nil
}

// smimeEncrypted is an S/MIME encrypted message from the fake Exchange's
// generator (application/pkcs7-mime enveloped-data), with its subject
// replaced, and the DER of its smime.p7m.
func smimeEncrypted(subject string) (raw, p7m []byte) {
	g := exchange.NewGenerator(18, "corp.example")
	for range len(exchange.GeneratorKinds) {
		gm := g.Next("Recipient <recipient@corp.example>")
		if gm.Kind != "smime-encrypted" {
			continue
		}
		raw = bytes.Replace(gm.Raw, []byte("Subject: "+gm.Subject+"\r\n"), []byte("Subject: "+subject+"\r\n"), 1)
		Expect(raw).NotTo(Equal(gm.Raw), "the subject was replaced")
		return raw, gm.Attachments[0].Data
	}
	Fail("the generator made no S/MIME encrypted message")
	return nil, nil
}

var _ = Describe("Security: attachment control", func() {
	f := fw.New()

	fw.It("S/MIME encrypted mail passes untouched on every path: Sync attachment lists (plain and HTML bodies), MIME bodies, ItemOperations", fw.IDs("ATT-21"), fw.Security(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = securityControl })
		user := f.NewUser()
		subject := "Sealed offer " + f.FreshDeviceID()
		raw, p7m := smimeEncrypted(subject)
		_, err := f.Exchange.Inject(f.Ctx(), user, exchange.InjectRequest{RawMIME: raw})
		Expect(err).NotTo(HaveOccurred())
		// A plain message in the same mailbox, whose attachment the control
		// rewrites: without it, a gateway that rewrites nothing (a plain
		// proxy) would pass the spec.
		plain := "Plain offer " + f.FreshDeviceID()
		_, err = f.Exchange.Inject(f.Ctx(), user, exchange.InjectRequest{From: "cfo@corp.example", To: []string{user + "@corp.example"},
			Subject: plain, Body: "See the attached offer.",
			Attachments: []exchange.InjectAttachment{{Name: "offer.pdf", ContentType: "application/pdf", Data: append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("plain offer "), 200)...)}}})
		Expect(err).NotTo(HaveOccurred())

		for class, opt := range controlled {
			d := f.NewDevice(user, opt)
			Expect(d.Connect(f.Ctx())).To(Succeed(), class)
			var ref string
			rewritten := false
			for _, m := range d.Messages() {
				if m.Subject == plain {
					Expect(m.Attachments).To(HaveLen(1), class)
					name := m.Attachments[0].Name
					rewritten = strings.HasSuffix(name, ".attachctrl") || strings.HasSuffix(name, ".removed.html")
				}
				if m.Subject == subject {
					Expect(m.Attachments).To(HaveLen(1), class)
					Expect(m.Attachments[0].Name).To(Equal("smime.p7m"), "%s: the attachment list is untouched", class)
					ref = m.Attachments[0].FileReference
				}
			}
			Expect(ref).NotTo(BeEmpty(), "%s synced the S/MIME message", class)
			Expect(rewritten).To(BeTrue(), "%s: the plain message's attachment is rewritten (the control is on)", class)
			data, _, err := d.FetchAttachment(f.Ctx(), ref)
			Expect(err).NotTo(HaveOccurred(), class)
			Expect(data).To(Equal(p7m), "%s: ItemOperations by FileReference gives the smime.p7m as sent", class)

			items, code, err := rawSync(f, d, eas.SyncOptions{MIMESupport: eas.Ptr(0), BodyPreference: []eas.BodyPreference{{Type: eas.BodyHTML}}})
			Expect(err).NotTo(HaveOccurred(), class)
			Expect(code).To(Equal(http.StatusOK), class)
			e := bySubject(items, subject)
			Expect(e).NotTo(BeNil(), "%s: Sync with an HTML body preference", class)
			Expect(e.MessageClass).To(Equal("IPM.Note.SMIME"))
			Expect(e.Attachments).To(HaveLen(1))
			Expect(e.Attachments[0].DisplayName).To(Equal("smime.p7m"), "%s: HTML body preference, attachment list untouched", class)
			Expect(int(e.Attachments[0].EstimatedDataSize)).To(Equal(len(p7m)))

			items, code, err = rawSync(f, d, eas.SyncOptions{MIMESupport: eas.Ptr(2), BodyPreference: []eas.BodyPreference{{Type: eas.BodyMIME}}})
			Expect(err).NotTo(HaveOccurred(), class)
			Expect(code).To(Equal(http.StatusOK), class)
			e = bySubject(items, subject)
			Expect(e).NotTo(BeNil(), "%s: Sync with MIME bodies", class)
			Expect(e.Body).NotTo(BeNil())
			Expect(e.Body.Data).NotTo(BeNil())
			Expect([]byte(*e.Body.Data)).To(Equal(raw), "%s: the MIME body is the message as sent, byte for byte", class)
		}
	})

	fw.It("a response the gateway cannot rewrite (gzip-compressed by the server) never reaches the device with the original attachment", fw.IDs("ATT-05", "ATT-07"), fw.Security(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = securityControl })
		user := f.NewUser()
		devices := map[string]*device.Device{}
		for class, opt := range controlled {
			devices[class] = f.NewDevice(user, opt)
			Expect(devices[class].Connect(f.Ctx())).To(Succeed(), class)
		}
		subject := "Board figures " + f.FreshDeviceID()
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("confidential board figures "), 400)...)
		_, err := f.Exchange.Inject(f.Ctx(), user, exchange.InjectRequest{From: "cfo@corp.example", Subject: subject, Body: "See the attached figures.",
			Attachments: []exchange.InjectAttachment{{Name: "figures.pdf", ContentType: "application/pdf", Data: pdf}}})
		Expect(err).NotTo(HaveOccurred())
		// From here on Exchange compresses what it answers, as IIS does.
		Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{Gzip: true})).To(Succeed())
		DeferCleanup(func() { Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{})).To(Succeed()) })
		secret := []byte("confidential board figures confidential board figures")
		b64 := base64.StdEncoding.EncodeToString(pdf[:57]) // the first base64 line of the attachment in MIME

		for class, d := range devices {
			if _, err := d.Sync(f.Ctx()); err != nil {
				GinkgoWriter.Printf("%s: Sync refused (%v): nothing delivered\n", class, err)
				continue
			}
			for _, m := range d.Messages() {
				if m.Subject != subject {
					continue
				}
				for _, a := range m.Attachments {
					Expect(a.Name).NotTo(Equal("figures.pdf"), "%s: the Sync announced the attachment under its own name", class)
					data, _, err := d.FetchAttachment(f.Ctx(), a.FileReference)
					if err != nil {
						GinkgoWriter.Printf("%s: ItemOperations refused (%v)\n", class, err)
						continue
					}
					Expect(bytes.Contains(data, secret)).To(BeFalse(), "%s: ItemOperations delivered the original attachment", class)
				}
			}
			items, code, err := rawSync(f, d, eas.SyncOptions{MIMESupport: eas.Ptr(2), BodyPreference: []eas.BodyPreference{{Type: eas.BodyMIME}}})
			if err != nil || code != http.StatusOK {
				GinkgoWriter.Printf("%s: MIME Sync refused (HTTP %d, %v)\n", class, code, err)
				continue
			}
			if e := bySubject(items, subject); e != nil && e.Body != nil && e.Body.Data != nil {
				Expect(strings.Contains(*e.Body.Data, b64)).To(BeFalse(), "%s: a MIME body carried the original attachment", class)
			}
		}
	})
})
