package scenarios_test

import (
	"bytes"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// removalSentence is the body of every Remove replacement (ATT-06).
const removalSentence = "The original attachment was removed as required by the security policies of your administrator."

// attEffect is what an attachment option does to a file on its way down.
type attEffect int

const (
	attPass    attEffect = iota // Deliver as is, Open with Secure Email App
	attRemove                   // <name>.removed.html with the removal sentence
	attEncrypt                  // <name>.attachctrl, readable with the UEM key
)

func (e attEffect) String() string {
	return [...]string{"the file as it is", "the removal notice instead", "the file encrypted under the UEM key"}[e]
}

func effectOf(o uemapi.AttachmentOption) attEffect {
	switch o {
	case uemapi.AttachRemove:
		return attRemove
	case uemapi.AttachEncrypt:
		return attEncrypt
	}
	return attPass
}

// The three dropdowns of the UEM (ATT-02).
const (
	ddIOS    = "iOS using Native Email"
	ddSecure = "iOS and Android using Secure Email Apps"
	ddOther  = "Other Platforms"
)

// attClass is a kind of mail client and the dropdown that governs it.
type attClass struct {
	name     string
	dropdown string
	opt      func(*device.Config)
}

func platform(p device.Platform, c device.Class) func(*device.Config) {
	return func(cfg *device.Config) { cfg.Platform, cfg.Class = p, c }
}

var (
	iosNative      = attClass{"iOS native mail", ddIOS, platform(device.IOS, device.Native)}
	androidNative  = attClass{"Android native mail", ddOther, platform(device.Android, device.Native)}
	iosSecure      = attClass{"an iOS secure email app", ddSecure, platform(device.IOS, device.SecureApp)}
	androidSecure  = attClass{"an Android secure email app", ddSecure, platform(device.Android, device.SecureApp)}
	androidUnsafe  = attClass{"an unsecured Android app", ddOther, platform(device.Android, device.UnsecureApp)}
	windowsNative  = attClass{"Windows mail", ddOther, platform(device.Windows, device.Native)}
	attClasses     = []attClass{iosNative, androidNative, iosSecure, androidSecure, androidUnsafe, windowsNative}
	dropdownOption = map[string][]uemapi.AttachmentOption{ // the options seed Table 8 supports
		ddIOS:    {uemapi.AttachRemove, uemapi.AttachEncrypt, uemapi.AttachDeliverAsIs},
		ddSecure: {uemapi.AttachRemove, uemapi.AttachSecureApp},
		ddOther:  {uemapi.AttachRemove, uemapi.AttachDeliverAsIs},
	}
	optionLabel = map[uemapi.AttachmentOption]string{
		uemapi.AttachRemove:      "Remove attachment",
		uemapi.AttachEncrypt:     "Open Only with Docs@Work and Protect with Encryption",
		uemapi.AttachDeliverAsIs: "Deliver as is",
		uemapi.AttachSecureApp:   "Open with Secure Email App",
	}
)

// controlWith is attachment control with each dropdown set.
func controlWith(opts map[string]uemapi.AttachmentOption, work ...string) uemapi.AttachmentControl {
	if len(work) == 0 {
		work = []string{"corp.example"}
	}
	return uemapi.AttachmentControl{Enabled: true, IOSNative: opts[ddIOS], SecureApps: opts[ddSecure], OtherPlatforms: opts[ddOther], WorkDomains: work}
}

// reportPDF is a PDF whose bytes differ per subject.
func reportPDF(subject string) []byte {
	return append([]byte("%PDF-1.4\n% "+subject+"\n"), bytes.Repeat([]byte("quarterly figures "), 400)...)
}

// injectFiles puts a mail with the files into user's Inbox.
func injectFiles(f *fw.Framework, user, subject string, files map[string][]byte) {
	var as []exchange.InjectAttachment
	for name, data := range files {
		as = append(as, exchange.InjectAttachment{Name: name, ContentType: "application/octet-stream", Data: data})
	}
	_, err := f.Exchange.Inject(f.Ctx(), user, exchange.InjectRequest{From: "cfo@corp.example", To: []string{user + "@corp.example"},
		Subject: subject, Body: "See the attached files.", Attachments: as})
	Expect(err).NotTo(HaveOccurred())
}

// received are the attachments of the mail with the subject as d got
// them: by the name the Sync listed, the bytes ItemOperations fetched.
func received(f *fw.Framework, d *device.Device, subject string) map[string][]byte {
	if d.PolicyKey() == "" {
		Expect(d.Connect(f.Ctx())).To(Succeed(), "%s connects", d.ID())
	} else {
		_, err := d.Sync(f.Ctx())
		Expect(err).NotTo(HaveOccurred())
	}
	out := map[string][]byte{}
	for _, m := range d.Messages() {
		if m.Subject != subject {
			continue
		}
		for _, a := range m.Attachments {
			data, _, err := d.FetchAttachment(f.Ctx(), a.FileReference)
			Expect(err).NotTo(HaveOccurred(), "fetching %s", a.Name)
			out[a.Name] = data
		}
		return out
	}
	Fail(fmt.Sprintf("%s never received %q", d.ID(), subject))
	return nil
}

// expectEffect checks one received file against the original.
func expectEffect(f *fw.Framework, got map[string][]byte, name string, original []byte, e attEffect, who string) {
	switch e {
	case attPass:
		Expect(got).To(HaveKey(name), "%s: the file under its own name", who)
		Expect(got[name]).To(Equal(original), "%s: the bytes Exchange holds", who)
	case attRemove:
		Expect(got).NotTo(HaveKey(name), "%s: the original is gone", who)
		Expect(got).To(HaveKey(name+".removed.html"), "%s: <name>.removed.html", who)
		Expect(string(got[name+".removed.html"])).To(ContainSubstring(removalSentence), "%s: the removal sentence", who)
		Expect(bytes.Contains(got[name+".removed.html"], original[:64])).To(BeFalse(), "%s: nothing of the original", who)
	case attEncrypt:
		Expect(got).NotTo(HaveKey(name), "%s: the original is gone", who)
		Expect(got).To(HaveKey(name+".attachctrl"), "%s: <name>.attachctrl (256-bit key)", who)
		plain, err := fw.DecryptAttachment(got[name+".attachctrl"], f.AttachmentKey())
		Expect(err).NotTo(HaveOccurred(), "%s: decrypting with the UEM's key", who)
		Expect(plain).To(Equal(original), "%s: decrypted, the bytes Exchange holds", who)
	}
}

// contrastFor picks another client class, governed by another dropdown,
// and the option it gets, so that a spec also sees the dropdowns kept
// apart and fails against a gateway that rewrites nothing.
func contrastFor(c attClass, e attEffect) (attClass, uemapi.AttachmentOption) {
	other := androidNative
	if c.dropdown == ddOther {
		other = iosNative
	}
	if e == attPass {
		return other, uemapi.AttachRemove
	}
	return other, uemapi.AttachDeliverAsIs
}

var _ = Describe("Attachment control: every option for every client class", func() {
	f := fw.New()

	for _, class := range attClasses {
		for _, opt := range dropdownOption[class.dropdown] {
			effect := effectOf(opt)
			ids := fw.IDs("ATT-01", "ATT-02", "ATT-03", "ATT-04")
			switch effect {
			case attRemove:
				ids = append(ids, "ATT-05", "ATT-06")
			case attEncrypt:
				ids = append(ids, "ATT-07", "ATT-10")
			}
			if class.dropdown == ddOther {
				ids = append(ids, "ATT-25")
			}
			fw.It(fmt.Sprintf("%s under %q for %s receives %s", class.name, optionLabel[opt], class.dropdown, effect), ids, fw.Conformance(fw.FeatureAttachments), func() {
				contrast, copt := contrastFor(class, effect)
				opts := map[string]uemapi.AttachmentOption{ddIOS: uemapi.AttachRemove, ddSecure: uemapi.AttachRemove, ddOther: uemapi.AttachRemove}
				opts[class.dropdown], opts[contrast.dropdown] = opt, copt
				f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = controlWith(opts) })

				user, subject := f.NewUser(), "Figures "+f.FreshDeviceID()
				pdf := reportPDF(subject)
				injectFiles(f, user, subject, map[string][]byte{"report.pdf": pdf})
				expectEffect(f, received(f, f.NewDevice(user, class.opt), subject), "report.pdf", pdf, effect, class.name)
				expectEffect(f, received(f, f.NewDevice(user, contrast.opt), subject), "report.pdf", pdf, effectOf(copt), contrast.name+" (other dropdown)")
			})
		}
	}

	fw.It("a third-party mail app on iOS follows the iOS dropdown, never Other Platforms", fw.IDs("ATT-02", "ATT-25"), fw.Conformance(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.AttachmentControl = controlWith(map[string]uemapi.AttachmentOption{ddIOS: uemapi.AttachEncrypt, ddSecure: uemapi.AttachRemove, ddOther: uemapi.AttachRemove})
		})
		user, subject := f.NewUser(), "Figures "+f.FreshDeviceID()
		pdf := reportPDF(subject)
		injectFiles(f, user, subject, map[string][]byte{"report.pdf": pdf})
		outlookIOS := f.NewDevice(user, platform(device.IOS, device.UnsecureApp))
		got := received(f, outlookIOS, subject)
		Expect(got).NotTo(HaveKey("report.pdf.removed.html"), "Other Platforms' Remove does not reach an iOS device")
		expectEffect(f, got, "report.pdf", pdf, attEncrypt, "Outlook on iOS")
		expectEffect(f, received(f, f.NewDevice(user, androidUnsafe.opt), subject), "report.pdf", pdf, attRemove, "Outlook on Android")
	})

	fw.It("an iOS device gets the removal notice in the language it reported; other platforms get United States English", fw.IDs("ATT-06"), fw.Conformance(fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.AttachmentControl = controlWith(map[string]uemapi.AttachmentOption{ddIOS: uemapi.AttachRemove, ddSecure: uemapi.AttachRemove, ddOther: uemapi.AttachRemove})
		})
		user, subject := f.NewUser(), "Figures "+f.FreshDeviceID()
		injectFiles(f, user, subject, map[string][]byte{"report.pdf": reportPDF(subject)})
		german := func(c *device.Config) { c.Language = "de-DE" }
		got := received(f, f.NewDevice(user, iosNative.opt, german), subject)
		Expect(string(got["report.pdf.removed.html"])).To(ContainSubstring("Der ursprüngliche Anhang wurde gemäß den Sicherheitsrichtlinien Ihres Administrators entfernt."), "iOS in German")
		got = received(f, f.NewDevice(user, androidNative.opt, german), subject)
		Expect(string(got["report.pdf.removed.html"])).To(ContainSubstring(removalSentence), "Android: not translated")
	})

	fw.It("with control disabled every client class receives the file as it is, whatever the dropdowns say", fw.IDs("ATT-01"), fw.Conformance(fw.FeatureAttachments), func() {
		// First enabled, so that a gateway which never rewrites fails.
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.AttachmentControl = controlWith(map[string]uemapi.AttachmentOption{ddIOS: uemapi.AttachEncrypt, ddSecure: uemapi.AttachRemove, ddOther: uemapi.AttachRemove})
		})
		user, subject := f.NewUser(), "Figures "+f.FreshDeviceID()
		pdf := reportPDF(subject)
		injectFiles(f, user, subject, map[string][]byte{"report.pdf": pdf})
		expectEffect(f, received(f, f.NewDevice(user, iosNative.opt), subject), "report.pdf", pdf, attEncrypt, "enabled: iOS native")

		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl.Enabled = false })
		for _, c := range attClasses {
			got := received(f, f.NewDevice(user, c.opt), subject)
			expectEffect(f, got, "report.pdf", pdf, attPass, "disabled: "+c.name)
			Expect(strings.Join(keys(got), ",")).NotTo(ContainSubstring(".attachctrl"))
		}
	})
})

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
