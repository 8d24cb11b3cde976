package scenarios_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Outbound attachment control (ATT-14 to ATT-17, ATT-20, ATT-11): a
// device under Encrypt holds attachments encrypted and sends them so;
// the gateway decrypts them for non-work recipients. The recipient here
// is another user of the fake Exchange, read through a secure-app device
// (its attachments pass as they are), so the spec sees exactly what
// Exchange delivered; "work" is decided by the configured work domains.

// sendControl is Encrypt for iOS native mail, with work the work domains.
func sendControl(work ...string) uemapi.AttachmentControl {
	return controlWith(map[string]uemapi.AttachmentOption{ddIOS: uemapi.AttachEncrypt, ddSecure: uemapi.AttachSecureApp, ddOther: uemapi.AttachRemove}, work...)
}

// outboundWorld is a sender with an encrypted copy of a report and a
// recipient.
type outboundWorld struct {
	sender    *device.Device
	recipient string
	subject   string
	pdf, enc  []byte
	serverID  string // of the report in the sender's Inbox
}

// encryptedCopy gives the sender's iOS native device (protocol v) the
// report, encrypted by the gateway.
func encryptedCopy(f *fw.Framework, v eas.Version) outboundWorld {
	w := outboundWorld{subject: "Report " + f.FreshDeviceID()}
	user := f.NewUser()
	w.recipient = f.NewUser()
	w.pdf = reportPDF(w.subject)
	injectFiles(f, user, w.subject, map[string][]byte{"report.pdf": w.pdf})
	w.sender = f.NewDevice(user, iosNative.opt, func(c *device.Config) { c.Version = v })
	got := received(f, w.sender, w.subject)
	Expect(got).To(HaveKey("report.pdf.attachctrl"), "the sender holds the report encrypted")
	w.enc = got["report.pdf.attachctrl"]
	for _, m := range w.sender.Messages() {
		if m.Subject == w.subject {
			w.serverID = m.ServerID
		}
	}
	return w
}

// send sends parts from the sender to rcpts as cmd and expects success.
func (w outboundWorld) send(f *fw.Framework, cmd eas.Command, subject string, rcpts []string, parts ...fw.MIMEPart) {
	var src *eas.Source
	if cmd != eas.CmdSendMail {
		src = &eas.Source{FolderId: w.sender.Inbox(), ItemId: w.serverID}
	}
	mime := fw.BuildMIME(w.sender.User()+"@corp.example", rcpts, subject, "Please find the report attached.", parts...)
	code, st, err := f.SendMIME(w.sender, cmd, mime, src)
	Expect(err).NotTo(HaveOccurred())
	Expect(code).To(Equal(http.StatusOK), "%s accepted", cmd)
	Expect(st).To(BeElementOf(0, 1), "%s status", cmd)
}

// delivered waits for the mail with subject in user's Inbox and returns
// its attachments as a device whose attachments pass untouched gets them.
func delivered(f *fw.Framework, user, subject string) map[string][]byte {
	d := f.NewDevice(user, androidSecure.opt)
	Expect(d.Connect(f.Ctx())).To(Succeed())
	Eventually(func() bool {
		_, err := d.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
		for _, m := range d.Messages() {
			if m.Subject == subject {
				return true
			}
		}
		return false
	}).Should(BeTrue(), "%s received %q", user, subject)
	return received(f, d, subject)
}

var _ = Describe("Attachment control on mail devices send", func() {
	f := fw.New()

	for _, v := range eas.Versions() {
		fw.It(fmt.Sprintf("protocol %s: SendMail with an encrypted attachment reaches a non-work recipient decrypted", v), fw.IDs("ATT-14", "ATT-15"), fw.Conformance(fw.FeatureAttachments), func() {
			f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = sendControl("work.example") })
			w := encryptedCopy(f, v)
			subject := "Fwd: " + w.subject
			w.send(f, eas.CmdSendMail, subject, []string{w.recipient + "@corp.example"}, fw.MIMEPart{Name: "report.pdf.attachctrl", Data: w.enc})
			got := delivered(f, w.recipient, subject)
			Expect(got).NotTo(HaveKey("report.pdf.attachctrl"), "not left encrypted for a non-work recipient")
			Expect(got).To(HaveKey("report.pdf"), "the extension dropped")
			Expect(got["report.pdf"]).To(Equal(w.pdf), "the original bytes")
		})
	}

	fw.It("mail only to work recipients keeps its encrypted attachment; one non-work recipient makes it decrypted for all", fw.IDs("ATT-14", "ATT-15"), fw.Conformance(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = sendControl("corp.example") })
		w := encryptedCopy(f, eas.V141)
		part := fw.MIMEPart{Name: "report.pdf.attachctrl", Data: w.enc}
		w.send(f, eas.CmdSendMail, "Work only "+w.subject, []string{w.recipient + "@corp.example"}, part)
		w.send(f, eas.CmdSendMail, "Mixed "+w.subject, []string{w.recipient + "@corp.example", "auditor@partner.example"}, part)

		got := delivered(f, w.recipient, "Work only "+w.subject)
		Expect(got).To(HaveKey("report.pdf.attachctrl"), "work recipients: still encrypted")
		Expect(got["report.pdf.attachctrl"]).To(Equal(w.enc), "byte for byte as the device sent it")
		got = delivered(f, w.recipient, "Mixed "+w.subject)
		Expect(got).To(HaveKey("report.pdf"), "a non-work recipient among them: decrypted")
		Expect(got["report.pdf"]).To(Equal(w.pdf))
	})

	for _, cmd := range []eas.Command{eas.CmdSmartForward, eas.CmdSmartReply} {
		fw.It(fmt.Sprintf("%s carrying the encrypted attachment reaches a non-work recipient decrypted", cmd), fw.IDs("ATT-14", "ATT-20"), fw.Conformance(fw.FeatureAttachments), func() {
			f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = sendControl("work.example") })
			w := encryptedCopy(f, eas.V161)
			subject := "Re: " + w.subject
			w.send(f, cmd, subject, []string{w.recipient + "@corp.example"}, fw.MIMEPart{Name: "report.pdf.attachctrl", Data: w.enc})
			got := delivered(f, w.recipient, subject)
			Expect(got).NotTo(HaveKey("report.pdf.attachctrl"))
			Expect(got["report.pdf"]).To(Equal(w.pdf), "restored for the non-work recipient")
		})
	}

	fw.It("after switching away from Encrypt the gateway stops decrypting what devices still send encrypted", fw.IDs("ATT-17", "ATT-14"), fw.Conformance(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = sendControl("work.example") })
		w := encryptedCopy(f, eas.V141)
		part := fw.MIMEPart{Name: "report.pdf.attachctrl", Data: w.enc}
		w.send(f, eas.CmdSendMail, "Under Encrypt "+w.subject, []string{w.recipient + "@corp.example"}, part)
		Expect(delivered(f, w.recipient, "Under Encrypt "+w.subject)["report.pdf"]).To(Equal(w.pdf), "decrypted while Encrypt is on")

		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl.IOSNative = uemapi.AttachDeliverAsIs })
		w.send(f, eas.CmdSendMail, "After "+w.subject, []string{w.recipient + "@corp.example"}, part)
		got := delivered(f, w.recipient, "After "+w.subject)
		Expect(got).To(HaveKey("report.pdf.attachctrl"), "no longer decrypted: the non-work recipient gets the encrypted file")
		Expect(got["report.pdf.attachctrl"]).To(Equal(w.enc))
	})

	fw.It("files Docs@Work encrypted although their type is excluded are decrypted for non-work recipients", fw.IDs("ATT-16", "ATT-14"), fw.Conformance(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = sendControl("work.example") })
		w := encryptedCopy(f, eas.V141)
		notes := []byte("meeting notes, excluded by type, encrypted by Docs@Work " + w.subject)
		enc, err := fw.EncryptAttachment(notes, f.AttachmentKey())
		Expect(err).NotTo(HaveOccurred())
		subject := "Notes " + w.subject
		w.send(f, eas.CmdSendMail, subject, []string{w.recipient + "@corp.example"}, fw.MIMEPart{Name: "notes.txt.attachctrl", Data: enc})
		got := delivered(f, w.recipient, subject)
		Expect(got).NotTo(HaveKey("notes.txt.attachctrl"))
		Expect(got["notes.txt"]).To(Equal(notes))
	})

	fw.It("after the UEM regenerates the key, new attachments use the new key and one under the old key is replaced by an explanation", fw.IDs("ATT-11", "ATT-10", "ATT-14"), fw.Conformance(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = sendControl("work.example") })
		w := encryptedCopy(f, eas.V141)
		old := f.AttachmentKey()
		h, err := fw.ReadEncryptedHeader(w.enc)
		Expect(err).NotTo(HaveOccurred())
		Expect(h.KeyID).To(Equal(old.ID), "encrypted under the UEM's key")

		fresh := f.RegenerateAttachmentKey()
		Expect(fresh.ID).NotTo(Equal(old.ID))
		got := received(f, f.NewDevice(w.sender.User(), iosNative.opt), w.subject)
		h, err = fw.ReadEncryptedHeader(got["report.pdf.attachctrl"])
		Expect(err).NotTo(HaveOccurred())
		Expect(h.KeyID).To(Equal(fresh.ID), "new attachments are encrypted under the new key")
		plain, err := fw.DecryptAttachment(got["report.pdf.attachctrl"], fresh)
		Expect(err).NotTo(HaveOccurred())
		Expect(plain).To(Equal(w.pdf))

		subject := "Old and new " + w.subject
		w.send(f, eas.CmdSendMail, subject, []string{w.recipient + "@corp.example"},
			fw.MIMEPart{Name: "old.pdf.attachctrl", Data: w.enc}, fw.MIMEPart{Name: "report.pdf.attachctrl", Data: got["report.pdf.attachctrl"]})
		out := delivered(f, w.recipient, subject)
		Expect(out["report.pdf"]).To(Equal(w.pdf), "the new-key attachment is decrypted")
		Expect(out).NotTo(HaveKey("old.pdf"), "the old key cannot decrypt")
		Expect(out).NotTo(HaveKey("old.pdf.attachctrl"), "the undecryptable file is not forwarded as it is")
		var text []string
		for name, data := range out {
			if strings.HasPrefix(name, "old.pdf") {
				Expect(name).To(HaveSuffix(".txt"), "replaced by a text file")
				Expect(bytes.Contains(data, w.enc[:32])).To(BeFalse())
				text = append(text, string(data))
			}
		}
		Expect(text).To(HaveLen(1), "one explanation in place of the old-key attachment")
		Expect(text[0]).NotTo(BeEmpty())
	})

	fw.It("iOS native mail under Remove forwards the removal notice it holds, never the original", fw.IDs("ATT-20", "ATT-05"), fw.Conformance(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.AttachmentControl = controlWith(map[string]uemapi.AttachmentOption{ddIOS: uemapi.AttachRemove, ddSecure: uemapi.AttachSecureApp, ddOther: uemapi.AttachRemove}, "work.example")
		})
		user, recipient, subject := f.NewUser(), f.NewUser(), "Report "+f.FreshDeviceID()
		pdf := reportPDF(subject)
		injectFiles(f, user, subject, map[string][]byte{"report.pdf": pdf})
		d := f.NewDevice(user, iosNative.opt)
		got := received(f, d, subject)
		expectEffect(f, got, "report.pdf", pdf, attRemove, "iOS native under Remove")
		w := outboundWorld{sender: d}
		for _, m := range d.Messages() {
			if m.Subject == subject {
				w.serverID = m.ServerID
			}
		}
		w.send(f, eas.CmdSmartForward, "Fwd: "+subject, []string{recipient + "@corp.example"},
			fw.MIMEPart{Name: "report.pdf.removed.html", ContentType: "text/html", Data: got["report.pdf.removed.html"]})
		out := delivered(f, recipient, "Fwd: "+subject)
		Expect(out["report.pdf.removed.html"]).To(Equal(got["report.pdf.removed.html"]), "the notice passes as it is")
		Expect(out).NotTo(HaveKey("report.pdf"))
	})
})
