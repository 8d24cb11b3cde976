package scenarios_test

import (
	"bytes"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("Email attachment control", func() {
	f := fw.New()

	// setControl changes the gateway's attachment control in the UEM and
	// puts the old one back after the spec.
	setControl := func(ac uemapi.AttachmentControl) {
		entry, err := f.UEM.Gateway(f.Ctx(), f.GatewayID())
		Expect(err).NotTo(HaveOccurred())
		old := entry.Config
		cfg := entry.Config
		cfg.AttachmentControl = ac
		_, err = f.UEM.SetGatewayConfig(f.Ctx(), f.GatewayID(), cfg)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _, _ = f.UEM.SetGatewayConfig(f.Ctx(), f.GatewayID(), old) })
		// ENT-01: the gateway took the configuration (the UEM shows Success, not View Errors).
		Eventually(func() string { e, _ := f.UEM.Gateway(f.Ctx(), f.GatewayID()); return e.Status }).Should(Equal("Success"))
	}

	// fetch connects a device and fetches the first document attachment
	// (not the excluded .ics, not an attached message, not an image that
	// may be shown inline in the body), returning its synced name and bytes.
	fetch := func(d *device.Device) (string, []byte) {
		Expect(d.Connect(f.Ctx())).To(Succeed())
		if len(d.Messages()) == 0 {
			Fail("no mail in the mailbox")
		}
		for _, m := range d.Messages() {
			for _, a := range m.Attachments {
				base := strings.TrimSuffix(strings.TrimSuffix(a.Name, ".attachctrl"), ".removed.html")
				if !strings.HasSuffix(base, ".pdf") && !strings.HasSuffix(base, ".docx") && !strings.HasSuffix(base, ".xlsx") {
					continue
				}
				data, _, err := d.FetchAttachment(f.Ctx(), a.FileReference)
				Expect(err).NotTo(HaveOccurred())
				return a.Name, data
			}
		}
		Fail("no attachment in the mailbox")
		return "", nil
	}

	control := uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachEncrypt, SecureApps: uemapi.AttachSecureApp,
		OtherPlatforms: uemapi.AttachRemove, ExclusionList: []string{"ics"}, WorkDomains: []string{"corp.example"}}

	// newUserWithReport hands out a user whose Inbox holds a mail with a
	// PDF attachment.
	newUserWithReport := func() string {
		user := f.NewUser()
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("quarterly figures "), 500)...)
		_, err := f.Exchange.Inject(f.Ctx(), user, exchange.InjectRequest{From: "cfo@corp.example", To: []string{user + "@corp.example"},
			Subject: "Quarterly report", Body: "See the attached report.",
			Attachments: []exchange.InjectAttachment{{Name: "report.pdf", ContentType: "application/pdf", Data: pdf}}})
		Expect(err).NotTo(HaveOccurred())
		return user
	}

	fw.It("encrypts attachments for iOS native email under Docs@Work protection", fw.IDs("ATT-04", "ATT-07"), fw.Conformance(fw.FeatureAttachments), func() {
		setControl(control)
		user := newUserWithReport()
		Eventually(func() string {
			d := f.NewDevice(user, func(c *device.Config) { c.Platform, c.Class = device.IOS, device.Native })
			name, data := fetch(d)
			if !bytes.HasPrefix(data, []byte("GHAC")) {
				return "not encrypted: " + name
			}
			return name
		}).Should(HaveSuffix(".attachctrl"))
	})

	fw.It("replaces attachments for other platforms by the removal notice", fw.IDs("ATT-04", "ATT-05"), fw.Conformance(fw.FeatureAttachments), func() {
		setControl(control)
		user := newUserWithReport()
		Eventually(func() string {
			d := f.NewDevice(user, func(c *device.Config) { c.Platform, c.Class = device.Android, device.UnsecureApp })
			name, data := fetch(d)
			if !strings.Contains(string(data), "The original attachment was removed as required by the security policies of your administrator.") {
				return "not replaced: " + name
			}
			return name
		}).Should(HaveSuffix(".removed.html"))
	})

	fw.It("delivers attachments as they are to secure email apps and when control is off", fw.IDs("ATT-04", "ATT-01"), fw.Conformance(fw.FeatureAttachments), func() {
		setControl(control)
		user := newUserWithReport()
		// The control is on for this mailbox: iOS native mail gets the
		// attachment encrypted. Without this, a gateway that rewrites
		// nothing (a plain proxy) would pass the spec.
		Eventually(func() string {
			name, _ := fetch(f.NewDevice(user, func(c *device.Config) { c.Platform, c.Class = device.IOS, device.Native }))
			return name
		}).Should(HaveSuffix(".attachctrl"), "iOS native mail under the same control")
		d := f.NewDevice(user, func(c *device.Config) { c.Platform, c.Class = device.IOS, device.SecureApp })
		name, data := fetch(d)
		Expect(name).NotTo(Or(HaveSuffix(".attachctrl"), HaveSuffix(".removed.html")))
		Expect(bytes.HasPrefix(data, []byte("GHAC"))).To(BeFalse())

		setControl(uemapi.AttachmentControl{})
		user = newUserWithReport()
		Eventually(func() bool {
			d := f.NewDevice(user, func(c *device.Config) { c.Platform, c.Class = device.IOS, device.Native })
			_, data := fetch(d)
			return bytes.HasPrefix(data, []byte("GHAC"))
		}).Should(BeFalse())
	})

	fw.It("writes the removal notice in a French and in a Japanese iPhone's language", fw.IDs("ATT-06"), fw.Conformance(fw.FeatureAttachments), func() {
		removeIOS := control
		removeIOS.IOSNative = uemapi.AttachRemove
		setControl(removeIOS)
		for lang, want := range map[string]string{
			"fr-FR": "a été supprimée conformément aux règles de sécurité de votre administrateur.",
			"ja-JP": "元の添付ファイルは、管理者のセキュリティポリシーにより削除されました。",
		} {
			user := newUserWithReport()
			Eventually(func() string {
				d := f.NewDevice(user, func(c *device.Config) { c.Platform, c.Class, c.Language = device.IOS, device.Native, lang })
				_, data := fetch(d)
				return string(data)
			}).Should(ContainSubstring(want), lang)
		}
	})
})
