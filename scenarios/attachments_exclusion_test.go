package scenarios_test

import (
	"bytes"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// defaultExcluded are the 16 extensions of the default exclusion list as
// the seed's text gives them, txt and ics included (INC-04).
var defaultExcluded = []string{"txt", "html", "htm", "jpg", "jpeg", "gif", "png", "eml", "rpms", "rpmsg", "bmp", "tiff", "tif", "sdtid", "log", "ics"}

// fileOf is a small file of that extension whose bytes name it.
func fileOf(ext, subject string) []byte {
	if ext == "eml" {
		return []byte("From: a@corp.example\r\nTo: b@corp.example\r\nSubject: inner " + subject + "\r\nContent-Type: text/plain\r\n\r\nan attached email\r\n")
	}
	return []byte(fmt.Sprintf("%s file of %s\n%s", ext, subject, strings.Repeat("content ", 40)))
}

// injectTyped is injectFiles with the content type an .eml needs.
func injectTyped(f *fw.Framework, user, subject string, files map[string][]byte) {
	var as []exchange.InjectAttachment
	for name, data := range files {
		ct := "application/octet-stream"
		if strings.HasSuffix(name, ".eml") {
			ct = "message/rfc822"
		}
		as = append(as, exchange.InjectAttachment{Name: name, ContentType: ct, Data: data})
	}
	_, err := f.Exchange.Inject(f.Ctx(), user, exchange.InjectRequest{From: "cfo@corp.example", To: []string{user + "@corp.example"},
		Subject: subject, Body: "See the attached files.", Attachments: as})
	Expect(err).NotTo(HaveOccurred())
}

// nested is a message whose attachments are notes-<level>.txt (excluded
// by default) and figures-<level>.pdf, with the next level attached as
// an email, down to level deepest.
func nested(level, deepest int, subject string) []byte {
	parts := []fw.MIMEPart{
		{Name: fmt.Sprintf("notes-%d.txt", level), ContentType: "text/plain", Data: []byte(fmt.Sprintf("notes of level %d of %s", level, subject))},
		{Name: fmt.Sprintf("figures-%d.pdf", level), ContentType: "application/pdf", Data: reportPDF(fmt.Sprintf("%s level %d", subject, level))},
	}
	if level < deepest {
		parts = append(parts, fw.MIMEPart{Name: fmt.Sprintf("level-%d.eml", level+1), Message: nested(level+1, deepest, subject)})
	}
	s := subject
	if level > 0 {
		s = fmt.Sprintf("Fwd level %d", level)
	}
	return fw.BuildMIME("cfo@corp.example", []string{"someone@corp.example"}, s, fmt.Sprintf("level %d", level), parts...)
}

var _ = Describe("Attachment control: exclusion list, embedded emails and key algorithm", func() {
	f := fw.New()

	encryptIOS := func(exclusions []string) {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.AttachmentControl = controlWith(map[string]uemapi.AttachmentOption{ddIOS: uemapi.AttachEncrypt, ddSecure: uemapi.AttachSecureApp, ddOther: uemapi.AttachRemove})
			gc.AttachmentControl.ExclusionList = exclusions
		})
	}

	fw.It("with an empty exclusion list the 16 default extensions, txt and ics included, pass Encrypt as they are", fw.IDs("ATT-12", "ATT-13", "INC-04"), fw.Conformance(fw.FeatureAttachments), func() {
		encryptIOS(nil)
		user, subject := f.NewUser(), "Files "+f.FreshDeviceID()
		files := map[string][]byte{"report.pdf": reportPDF(subject)}
		for _, ext := range defaultExcluded {
			files["file."+ext] = fileOf(ext, subject)
		}
		injectTyped(f, user, subject, files)
		got := received(f, f.NewDevice(user, iosNative.opt), subject)
		for _, ext := range defaultExcluded {
			Expect(got).To(HaveKey("file."+ext), "%s is excluded by default", ext)
			if ext != "eml" { // an attached email is walked, its bytes may be re-encoded
				Expect(got["file."+ext]).To(Equal(files["file."+ext]), "%s passes as it is", ext)
			}
		}
		expectEffect(f, got, "report.pdf", files["report.pdf"], attEncrypt, "pdf, not excluded")
	})

	fw.It("a configured exclusion list replaces the default one: listed extensions pass, txt is encrypted", fw.IDs("ATT-12", "ATT-13"), fw.Conformance(fw.FeatureAttachments), func() {
		encryptIOS([]string{"pdf", "docx"})
		user, subject := f.NewUser(), "Files "+f.FreshDeviceID()
		files := map[string][]byte{"report.pdf": reportPDF(subject), "notes.txt": fileOf("txt", subject), "plan.DOCX": fileOf("docx", subject)}
		injectTyped(f, user, subject, files)
		got := received(f, f.NewDevice(user, iosNative.opt), subject)
		expectEffect(f, got, "report.pdf", files["report.pdf"], attPass, "pdf, listed")
		expectEffect(f, got, "plan.DOCX", files["plan.DOCX"], attPass, "DOCX, listed in lower case")
		expectEffect(f, got, "notes.txt", files["notes.txt"], attEncrypt, "txt, no longer excluded")
	})

	fw.It("Remove ignores the exclusion list: excluded files are removed too", fw.IDs("ATT-13", "ATT-05"), fw.Conformance(fw.FeatureAttachments), func() {
		encryptIOS(nil) // Other Platforms: Remove
		user, subject := f.NewUser(), "Files "+f.FreshDeviceID()
		files := map[string][]byte{"notes.txt": fileOf("txt", subject), "photo.png": fileOf("png", subject), "invite.ics": fileOf("ics", subject)}
		injectTyped(f, user, subject, files)
		got := received(f, f.NewDevice(user, androidNative.opt), subject)
		for name, data := range files {
			expectEffect(f, got, name, data, attRemove, name)
		}
		got = received(f, f.NewDevice(user, iosNative.opt), subject)
		for name, data := range files {
			expectEffect(f, got, name, data, attPass, "iOS native under Encrypt: "+name)
		}
	})

	fw.It("embedded emails get the option down to the fourth level; from the fifth every attachment is encrypted, excluded ones too", fw.IDs("ATT-19", "ATT-13"), fw.Conformance(fw.FeatureAttachments), func() {
		encryptIOS(nil)
		user, subject := f.NewUser(), "Nested "+f.FreshDeviceID()
		const deepest = 6
		raw := nested(0, deepest, subject)
		_, err := f.Exchange.Inject(f.Ctx(), user, exchange.InjectRequest{RawMIME: raw})
		Expect(err).NotTo(HaveOccurred())
		want, err := fw.MIMEAttachments(raw)
		Expect(err).NotTo(HaveOccurred())
		Expect(want).To(HaveLen(2*(deepest+1)), "the spec's own message")

		d := f.NewDevice(user, iosNative.opt)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		items, code, err := rawSync(f, d, eas.SyncOptions{MIMESupport: eas.Ptr(2), BodyPreference: []eas.BodyPreference{{Type: eas.BodyMIME}}})
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(200))
		e := bySubject(items, subject)
		Expect(e).NotTo(BeNil(), "the nested message synced with a MIME body")
		Expect(e.Body).NotTo(BeNil())
		Expect(e.Body.Data).NotTo(BeNil())
		got, err := fw.MIMEAttachments([]byte(*e.Body.Data))
		Expect(err).NotTo(HaveOccurred(), "the device can read the rewritten MIME")
		byName := map[string]fw.FoundAttachment{}
		for _, a := range got {
			byName[a.Name] = a
		}
		key := f.AttachmentKey()
		for _, w := range want {
			if strings.HasSuffix(w.Name, ".txt") && w.Level <= 4 {
				Expect(byName).To(HaveKey(w.Name), "level %d: excluded, as it is", w.Level)
				Expect(byName[w.Name].Data).To(Equal(w.Data))
				Expect(byName[w.Name].Level).To(Equal(w.Level), "still at its level")
				continue
			}
			Expect(byName).NotTo(HaveKey(w.Name), "level %d: %s is not delivered in clear", w.Level, w.Name)
			enc, ok := byName[w.Name+".attachctrl"]
			Expect(ok).To(BeTrue(), "level %d: %s.attachctrl", w.Level, w.Name)
			plain, err := fw.DecryptAttachment(enc.Data, key)
			Expect(err).NotTo(HaveOccurred(), "level %d: %s decrypts with the UEM key", w.Level, w.Name)
			Expect(plain).To(Equal(w.Data))
		}
	})

	fw.It("with Docs@Work (Original) on, a regenerated key is 128-bit: .secure files in the 128-bit format; off again, .attachctrl", fw.IDs("ATT-08", "ATT-09", "ATT-07", "ATT-10"), fw.Conformance(fw.FeatureAttachments), func() {
		encryptIOS(nil)
		user, subject := f.NewUser(), "Files "+f.FreshDeviceID()
		pdf := reportPDF(subject)
		injectFiles(f, user, subject, map[string][]byte{"report.pdf": pdf})

		f.SetPreferences(func(p *uem.Preferences) { p.DocsAtWorkOriginal = true })
		DeferCleanup(func() {
			f.SetPreferences(func(p *uem.Preferences) { p.DocsAtWorkOriginal = false })
			Expect(f.RegenerateAttachmentKey().Algorithm).To(Equal(uemapi.AES256GCM), "back to a 256-bit key")
		})
		// The algorithm is fixed when the key is generated: the setting
		// alone changes nothing.
		Expect(f.AttachmentKey().Algorithm).To(Equal(uemapi.AES256GCM))
		expectEffect(f, received(f, f.NewDevice(user, iosNative.opt), subject), "report.pdf", pdf, attEncrypt, "before regeneration")

		k128 := f.RegenerateAttachmentKey()
		Expect(k128.Algorithm).To(Equal(uemapi.AES128ECB))
		Expect(k128.Key).To(HaveLen(16))
		got := received(f, f.NewDevice(user, iosNative.opt), subject)
		Expect(got).To(HaveKey("report.pdf.secure"), "128-bit: .secure")
		h, err := fw.ReadEncryptedHeader(got["report.pdf.secure"])
		Expect(err).NotTo(HaveOccurred())
		Expect(h.Version).To(Equal(byte(2)), "the 128-bit format")
		Expect(h.KeyID).To(Equal(k128.ID))
		plain, err := fw.DecryptAttachment(got["report.pdf.secure"], k128)
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(plain, pdf)).To(BeTrue())
	})
})
