package scenarios_test

import (
	"bytes"
	"encoding/base64"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Under attachment control the gateway rewrites what carries attachments
// to the device (ATT-05: Remove replaces each with <name>.removed.html).
// What may differ from Exchange's answer is exactly that: in a Sync with
// MIME bodies, the MIME (and its size); in an ItemOperations fetch of the
// attachment, its data, content type and size. The request still reaches
// Exchange unchanged and everything else of the answer is Exchange's.

var _ = Describe("Protocol transparency under attachment control", func() {
	f := fw.New()

	for i, v := range eas.Versions() {
		b64 := i%2 == 1
		fw.It(fmt.Sprintf("with Remove for other platforms, Sync, ItemOperations (and GetAttachment at 12.1) differ from Exchange's answer only in the attachment, at %s", v),
			fw.IDs("ATT-05", "ATT-01"), fw.Conformance(fw.FeatureTransparency, fw.FeatureAttachments), func() {
				restore := tpSetAttachmentControl(f, uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachEncrypt, SecureApps: uemapi.AttachSecureApp,
					OtherPlatforms: uemapi.AttachRemove})
				d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Version, c.Base64Query, c.Platform = v, b64, device.Windows })
				f.Register(d)
				Expect(d.Provision(f.Ctx())).To(Succeed())
				pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("confidential figures "), 40)...)
				res, err := f.Exchange.Inject(f.Ctx(), d.User(), exchange.InjectRequest{From: "cfo@example.org", Subject: "figures", Body: "attached",
					Attachments: []exchange.InjectAttachment{{Name: "figures.pdf", ContentType: "application/pdf", Data: pdf}}})
				Expect(err).NotTo(HaveOccurred())

				fetch := tpRaw(eas.CmdItemOperations, `<ItemOperations xmlns="ItemOperations:"><Fetch><Store>Mailbox</Store>`+
					`<FileReference xmlns="AirSyncBase:">`+res.Message.Attachments[0].FileReference+`</FileReference></Fetch></ItemOperations>`)
				Eventually(func() bool {
					got, err := d.Raw(f.Ctx(), fetch)
					return err == nil && got.Status == 200 && len(tpFetched(got)) > 0 && !bytes.Equal(tpFetched(got), pdf)
				}).Should(BeTrue(), "attachment control is in force at the gateway")
				// Against a shared gateway the next spec must not meet this
				// control: put the old one back and wait until it is in force.
				DeferCleanup(func() {
					restore()
					Eventually(func() bool {
						got, err := d.Raw(f.Ctx(), fetch)
						return err == nil && got.Status == 200 && bytes.Equal(tpFetched(got), pdf)
					}).Should(BeTrue(), "the previous attachment control is in force again")
				})

				fs, err := d.Raw(f.Ctx(), tpRaw(eas.CmdFolderSync, `<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>`))
				Expect(err).NotTo(HaveOccurred())
				inbox := tpFolderOfType(fs, "2")
				first, err := d.Raw(f.Ctx(), tpRaw(eas.CmdSync, tpSyncXML(v, inbox, "0", false)))
				Expect(err).NotTo(HaveOccurred())
				key := tpText(first.Root(), "AirSync:Collections", "AirSync:Collection", "AirSync:SyncKey")

				got, e := f.Relay(d, tpRaw(eas.CmdSync, tpMIMESyncXML(v, inbox, key)))
				fw.ExpectRequestUnchanged(got, e)
				Expect(got.Status).To(Equal(e.Status))
				Expect(e.ResponseTruncated).To(BeFalse(), "the journal kept Exchange's whole answer (%d bytes)", e.ResponseBodyLen)
				server, err := wbxml.Parse(e.ResponseBody, wbxml.Limits{})
				Expect(err).NotTo(HaveOccurred(), "Exchange's answer (%d of %d bytes, content type %q)", len(e.ResponseBody), e.ResponseBodyLen, e.ResponseHeader.Get("Content-Type"))
				Expect(got.Root()).NotTo(BeNil())
				Expect(wbxml.Diff(tpWithout(tpWithout(server.Root, "AirSyncBase:Body"), "AirSyncBase:Attachments"),
					tpWithout(tpWithout(got.Root(), "AirSyncBase:Body"), "AirSyncBase:Attachments"))).To(BeEmpty(),
					"outside the MIME bodies and the attachment lists the device got Exchange's Sync answer")
				theirs, mine := tpAttachments(server.Root), tpAttachments(got.Root())
				Expect(mine).To(HaveLen(len(theirs)), "every attachment is listed, replaced")
				replaced := 0
				for i, a := range theirs {
					Expect(wbxml.Diff(tpWithout(tpWithout(a, "AirSyncBase:DisplayName"), "AirSyncBase:EstimatedDataSize"),
						tpWithout(tpWithout(mine[i], "AirSyncBase:DisplayName"), "AirSyncBase:EstimatedDataSize"))).To(BeEmpty(),
						"an attachment's entry differs only in its name and size")
					if tpText(a, "AirSyncBase:DisplayName") == "figures.pdf" { // the mailbox's other mail may be S/MIME encrypted (ATT-21)
						Expect(tpText(mine[i], "AirSyncBase:DisplayName")).To(Equal("figures.pdf.removed.html"))
						replaced++
					}
				}
				Expect(replaced).To(Equal(1), "the injected PDF was in the answer")
				Expect(string(e.ResponseBody)).To(ContainSubstring("figures.pdf"))
				Expect(string(got.Body)).To(ContainSubstring("figures.pdf.removed.html"), "the attachment was replaced (ATT-05)")

				got, e = f.Relay(d, fetch)
				fw.ExpectRequestUnchanged(got, e)
				server, err = wbxml.Parse(e.ResponseBody, wbxml.Limits{})
				Expect(err).NotTo(HaveOccurred())
				Expect(got.Root()).NotTo(BeNil())
				Expect(wbxml.Diff(tpWithout(server.Root, "ItemOperations:Properties"), tpWithout(got.Root(), "ItemOperations:Properties"))).To(BeEmpty(),
					"outside the fetched attachment's properties the device got Exchange's ItemOperations answer")
				Expect(tpFetched(got)).NotTo(BeEmpty(), "the device got the replacement")
				Expect(tpFetched(got)).NotTo(Equal(pdf), "the attachment's bytes did not reach the device")

				if v == eas.V121 { // GetAttachment: the raw bytes are what may differ, and their type
					got, e = f.Relay(d, device.RawRequest{Cmd: eas.CmdGetAttachment, AttachmentName: res.Message.Attachments[0].FileReference})
					fw.ExpectRequestUnchanged(got, e)
					Expect(got.Status).To(Equal(e.Status))
					Expect(e.ResponseBody).To(Equal(pdf), "Exchange answered the PDF")
					Expect(got.Body).NotTo(BeEmpty())
					Expect(got.Body).NotTo(Equal(pdf), "the device got the replacement")
				}
			})
	}
})

// tpSetAttachmentControl sets the gateway's attachment control in the
// UEM and returns the function that puts the old one back.
func tpSetAttachmentControl(f *fw.Framework, ac uemapi.AttachmentControl) (restore func()) {
	entry, err := f.UEM.Gateway(f.Ctx(), f.GatewayID())
	Expect(err).NotTo(HaveOccurred())
	old, cfg := entry.Config, entry.Config
	cfg.AttachmentControl = ac
	_, err = f.UEM.SetGatewayConfig(f.Ctx(), f.GatewayID(), cfg)
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() string { e, _ := f.UEM.Gateway(f.Ctx(), f.GatewayID()); return e.Status }).Should(Equal("Success"), "the gateway took the configuration")
	return func() {
		_, err := f.UEM.SetGatewayConfig(f.Ctx(), f.GatewayID(), old)
		Expect(err).NotTo(HaveOccurred(), "putting the attachment control back")
	}
}

// tpMIMESyncXML asks for mail with full MIME bodies (MIMESupport 2).
func tpMIMESyncXML(v eas.Version, coll, key string) string {
	class := ""
	if v == eas.V121 {
		class = `<Class>Email</Class>`
	}
	return `<Sync xmlns="AirSync:"><Collections><Collection>` + class + `<SyncKey>` + key + `</SyncKey><CollectionId>` + coll +
		`</CollectionId><DeletesAsMoves>1</DeletesAsMoves><GetChanges>1</GetChanges><WindowSize>25</WindowSize><Options><FilterType>0</FilterType>` +
		`<MIMESupport>2</MIMESupport><BodyPreference xmlns="AirSyncBase:"><Type>4</Type></BodyPreference></Options></Collection></Collections></Sync>`
}

// tpWithout is a copy of the tree with every element of the tag emptied.
func tpWithout(n *wbxml.Node, tag string) *wbxml.Node {
	c := *n
	if c.Tag.String() == tag {
		c.Children, c.Content = nil, nil
		return &c
	}
	c.Children = make([]*wbxml.Node, len(n.Children))
	for i, ch := range n.Children {
		c.Children[i] = tpWithout(ch, tag)
	}
	return &c
}

// tpAttachments lists every AirSyncBase:Attachment in the tree.
func tpAttachments(n *wbxml.Node) []*wbxml.Node {
	if n.Tag.String() == "AirSyncBase:Attachment" {
		return []*wbxml.Node{n}
	}
	var out []*wbxml.Node
	for _, c := range n.Children {
		out = append(out, tpAttachments(c)...)
	}
	return out
}

// tpFetched is the data of an inline ItemOperations fetch (nil when
// absent or not base64).
func tpFetched(got *device.RawResponse) []byte {
	data := tpText(got.Root(), "ItemOperations:Response", "ItemOperations:Fetch", "ItemOperations:Properties", "ItemOperations:Data")
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil
	}
	return b
}
