package scenarios_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Protocol transparency: for every MS-ASCMD command the gateway proxies,
// at every version that has it, Exchange receives what the device sent
// (request line, body byte for byte, the headers that matter, the same
// credentials) and the device receives Exchange's answer unchanged. The
// fake Exchange's request journal is the witness on the server side, the
// device's Raw the witness on the device side; a gateway that alters a
// byte in either direction fails.
//
// Items: the seeds never say "transparent" in so many words. FLOW-01 has
// an allowed device "carry on" with ActiveSync through Sentry and FLOW-04
// has later requests decided from the device list and passed on; DA-05
// has Pass Through forward the device's credentials; ATT-01 has every
// attachment go to every device as-is while attachment control is off
// (the default). Those are the nearest items and the ones cited.

var _ = Describe("Protocol transparency", func() {
	f := fw.New()

	for i, v := range eas.Versions() {
		b64 := i%2 == 1 // 14.0 and 16.0 use the base64 request line

		fw.It(fmt.Sprintf("mail commands reach Exchange and come back unchanged at %s", v), fw.IDs("FLOW-01", "FLOW-04", "DA-05", "ATT-01"),
			fw.Conformance(fw.FeatureTransparency), func() {
				d := tpDevice(f, v, b64)
				ref := tpInjectWithAttachment(f, d.User())

				got, e := f.Relay(d, tpRaw(eas.CmdFolderSync, `<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>`))
				fw.ExpectTransparent(got, e)
				inbox, trash := tpFolderOfType(got, "2"), tpFolderOfType(got, "4")
				Expect(inbox).NotTo(BeEmpty(), "FolderSync listed the Inbox")

				got, e = f.Relay(d, tpRaw(eas.CmdSync, tpSyncXML(v, inbox, "0", false)))
				fw.ExpectTransparent(got, e)
				key := tpText(got.Root(), "AirSync:Collections", "AirSync:Collection", "AirSync:SyncKey")
				Expect(key).NotTo(BeEmpty())

				got, e = f.Relay(d, tpRaw(eas.CmdSync, tpSyncXML(v, inbox, key, true)))
				fw.ExpectTransparent(got, e)
				key = tpText(got.Root(), "AirSync:Collections", "AirSync:Collection", "AirSync:SyncKey")
				item := tpText(got.Root(), "AirSync:Collections", "AirSync:Collection", "AirSync:Commands", "AirSync:Add", "AirSync:ServerId")
				Expect(item).NotTo(BeEmpty(), "the Sync brought mail")

				got, e = f.Relay(d, tpRaw(eas.CmdGetItemEstimate, tpEstimateXML(v, inbox, key)))
				fw.ExpectTransparent(got, e)

				fetch := `<ItemOperations xmlns="ItemOperations:"><Fetch><Store>Mailbox</Store><FileReference xmlns="AirSyncBase:">` + ref + `</FileReference></Fetch></ItemOperations>`
				got, e = f.Relay(d, tpRaw(eas.CmdItemOperations, fetch))
				fw.ExpectTransparent(got, e)
				multi := tpRaw(eas.CmdItemOperations, fetch)
				multi.AcceptMultiPart = true
				got, e = f.Relay(d, multi)
				fw.ExpectTransparent(got, e)
				Expect(got.Header.Get("Content-Type")).To(HavePrefix(eas.ContentTypeMultipart), "multipart asked for and relayed")

				if v == eas.V121 { // GetAttachment exists up to 12.1 only
					got, e = f.Relay(d, device.RawRequest{Cmd: eas.CmdGetAttachment, AttachmentName: ref})
					fw.ExpectTransparent(got, e)
					Expect(got.Status).To(Equal(200))
				}

				got, e = f.Relay(d, tpRaw(eas.CmdMoveItems, `<MoveItems xmlns="Move:"><Move><SrcMsgId>`+item+`</SrcMsgId><SrcFldId>`+inbox+
					`</SrcFldId><DstFldId>`+trash+`</DstFldId></Move></MoveItems>`))
				fw.ExpectTransparent(got, e)

				_, err := f.Exchange.Inject(f.Ctx(), d.User(), injectMail("wake the Ping"))
				Expect(err).NotTo(HaveOccurred())
				got, e = f.Relay(d, tpRaw(eas.CmdPing, `<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval><Folders><Folder><Id>`+inbox+
					`</Id><Class>Email</Class></Folder></Folders></Ping>`))
				fw.ExpectTransparent(got, e)
			})

		fw.It(fmt.Sprintf("SendMail, SmartForward and SmartReply reach Exchange and come back unchanged at %s", v), fw.IDs("FLOW-04", "DA-05"),
			fw.Conformance(fw.FeatureTransparency), func() {
				d := tpDevice(f, v, b64)
				Expect(d.Connect(f.Ctx())).To(Succeed())
				Expect(d.Messages()).NotTo(BeEmpty())
				src, inbox := d.Messages()[0].ServerID, d.Inbox()
				mime := []byte("From: " + d.User() + "@" + "example.test\r\nTo: Bob <bob@elsewhere.example>\r\nSubject: transparency " + v.String() +
					"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsent through the gateway\r\n")
				for _, cmd := range []eas.Command{eas.CmdSendMail, eas.CmdSmartForward, eas.CmdSmartReply} {
					var rr device.RawRequest
					if v == eas.V121 { // raw MIME, options in the query
						rr = device.RawRequest{Cmd: cmd, Body: mime, ContentType: eas.ContentTypeMessage, SaveInSent: true}
						if cmd != eas.CmdSendMail {
							rr.ItemID, rr.CollectionID = src, inbox
						}
					} else {
						rr = device.RawRequest{Cmd: cmd, Body: tpComposeBody(cmd, src, inbox, mime)}
					}
					got, e := f.Relay(d, rr)
					fw.ExpectTransparent(got, e)
					Expect(got.Status).To(Equal(200), "%s accepted", cmd)
				}
			})

		fw.It(fmt.Sprintf("FolderCreate, FolderUpdate and FolderDelete reach Exchange and come back unchanged at %s", v), fw.IDs("FLOW-04"),
			fw.Conformance(fw.FeatureTransparency), func() {
				d := tpDevice(f, v, b64)
				got, e := f.Relay(d, tpRaw(eas.CmdFolderSync, `<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>`))
				fw.ExpectTransparent(got, e)
				key := tpText(got.Root(), "FolderHierarchy:SyncKey")

				got, e = f.Relay(d, tpRaw(eas.CmdFolderCreate, `<FolderCreate xmlns="FolderHierarchy:"><SyncKey>`+key+
					`</SyncKey><ParentId>0</ParentId><DisplayName>Transparent `+v.String()+`</DisplayName><Type>12</Type></FolderCreate>`))
				fw.ExpectTransparent(got, e)
				Expect(tpText(got.Root(), "FolderHierarchy:Status")).To(Equal("1"))
				id, key := tpText(got.Root(), "FolderHierarchy:ServerId"), tpText(got.Root(), "FolderHierarchy:SyncKey")

				got, e = f.Relay(d, tpRaw(eas.CmdFolderUpdate, `<FolderUpdate xmlns="FolderHierarchy:"><SyncKey>`+key+`</SyncKey><ServerId>`+id+
					`</ServerId><ParentId>0</ParentId><DisplayName>Renamed `+v.String()+`</DisplayName></FolderUpdate>`))
				fw.ExpectTransparent(got, e)
				Expect(tpText(got.Root(), "FolderHierarchy:Status")).To(Equal("1"))
				key = tpText(got.Root(), "FolderHierarchy:SyncKey")

				got, e = f.Relay(d, tpRaw(eas.CmdFolderDelete, `<FolderDelete xmlns="FolderHierarchy:"><SyncKey>`+key+`</SyncKey><ServerId>`+id+`</ServerId></FolderDelete>`))
				fw.ExpectTransparent(got, e)
				Expect(tpText(got.Root(), "FolderHierarchy:Status")).To(Equal("1"))
			})

		cmds := "Search, ResolveRecipients, ValidateCert, MeetingResponse and Settings"
		if v == eas.V161 {
			cmds = "Search, ResolveRecipients, ValidateCert, MeetingResponse, Settings and Find"
		}
		fw.It(fmt.Sprintf("%s reach Exchange and come back unchanged at %s", cmds, v), fw.IDs("FLOW-04"),
			fw.Conformance(fw.FeatureTransparency), func() {
				d := tpDevice(f, v, b64)
				invite, err := f.Exchange.Inject(f.Ctx(), d.User(), exchange.InjectRequest{From: "boss@example.org", Subject: "Planning " + v.String(), Body: "please come",
					Attachments: []exchange.InjectAttachment{{Name: "invite.ics", ContentType: "text/calendar",
						Data: []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")}}})
				Expect(err).NotTo(HaveOccurred())

				for _, rr := range []device.RawRequest{
					tpRaw(eas.CmdSearch, `<Search xmlns="Search:"><Store><Name>GAL</Name><Query>user</Query><Options><Range>0-4</Range></Options></Store></Search>`),
					tpRaw(eas.CmdSearch, `<Search xmlns="Search:"><Store><Name>Mailbox</Name><Query><And><CollectionId xmlns="AirSync:">`+invite.FolderID+
						`</CollectionId><FreeText>Planning</FreeText></And></Query><Options><Range>0-9</Range></Options></Store></Search>`),
					tpRaw(eas.CmdResolveRecipients, `<ResolveRecipients xmlns="ResolveRecipients:"><To>`+d.User()+`</To><To>nobody-here</To>`+
						`<Options><CertificateRetrieval>2</CertificateRetrieval><MaxAmbiguousRecipients>3</MaxAmbiguousRecipients></Options></ResolveRecipients>`),
					tpRaw(eas.CmdValidateCert, `<ValidateCert xmlns="ValidateCert:"><Certificates><Certificate>`+tpSMIMECertificate()+
						`</Certificate></Certificates><CheckCRL>1</CheckCRL></ValidateCert>`),
					tpRaw(eas.CmdMeetingResponse, `<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>1</UserResponse><CollectionId>`+
						invite.FolderID+`</CollectionId><RequestId>`+invite.Message.ServerID+`</RequestId></Request></MeetingResponse>`),
					tpRaw(eas.CmdSettings, `<Settings xmlns="Settings:"><Oof><Get><BodyType>Text</BodyType></Get></Oof><UserInformation><Get/></UserInformation></Settings>`),
				} {
					got, e := f.Relay(d, rr)
					fw.ExpectTransparent(got, e)
					Expect(got.Status).To(Equal(200), "%s answered", rr.Cmd)
				}
				if v == eas.V161 {
					got, e := f.Relay(d, tpRaw(eas.CmdFind, `<Find xmlns="Find:"><SearchId>`+d.ID()+`</SearchId><ExecuteSearch><MailBoxSearchCriterion><Query>`+
						`<Class xmlns="AirSync:">Email</Class><FreeText>please</FreeText></Query><Options><Range>0-9</Range></Options>`+
						`</MailBoxSearchCriterion></ExecuteSearch></Find>`))
					fw.ExpectTransparent(got, e)
					Expect(tpText(got.Root(), "Find:Status")).To(Equal("1"))
				}
			})
	}
})

// tpDevice is a registered, provisioned, allowed device of a new
// user: every command it sends may pass.
func tpDevice(f *fw.Framework, v eas.Version, b64 bool) *device.Device {
	d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Version, c.Base64Query = v, b64 })
	f.Register(d)
	Expect(d.Provision(f.Ctx())).To(Succeed())
	return d
}

// tpRaw is a WBXML command written in the XML form.
func tpRaw(cmd eas.Command, x string) device.RawRequest {
	return device.RawRequest{Cmd: cmd, Body: fw.XMLBody(x)}
}

// tpText follows "Page:Name" tags from n ("" when absent).
func tpText(n *wbxml.Node, path ...string) string {
	for _, p := range path {
		if n == nil {
			return ""
		}
		n = n.Child(wbxml.MustTag(p))
	}
	if n == nil {
		return ""
	}
	return n.Text()
}

// tpFolderOfType is the ServerId of the first folder of a FolderSync answer
// with the type.
func tpFolderOfType(got *device.RawResponse, typ string) string {
	ch := got.Root().Find(wbxml.MustTag("FolderHierarchy:Changes"))
	if ch == nil {
		return ""
	}
	for _, a := range ch.Children {
		if a.Tag.String() == "FolderHierarchy:Add" && tpText(a, "FolderHierarchy:Type") == typ {
			return tpText(a, "FolderHierarchy:ServerId")
		}
	}
	return ""
}

// tpSyncXML is a Sync of one Email collection, the way the version writes it
// (12.1 names the Class); changes asks for mail with a plain-text body.
func tpSyncXML(v eas.Version, coll, key string, changes bool) string {
	class := ""
	if v == eas.V121 {
		class = `<Class>Email</Class>`
	}
	more := ""
	if changes {
		more = `<DeletesAsMoves>1</DeletesAsMoves><GetChanges>1</GetChanges><WindowSize>25</WindowSize><Options><FilterType>0</FilterType>` +
			`<BodyPreference xmlns="AirSyncBase:"><Type>1</Type><TruncationSize>2048</TruncationSize></BodyPreference></Options>`
	}
	return `<Sync xmlns="AirSync:"><Collections><Collection>` + class + `<SyncKey>` + key + `</SyncKey><CollectionId>` + coll + `</CollectionId>` + more +
		`</Collection></Collections></Sync>`
}

// tpEstimateXML is a GetItemEstimate in the version's form (12.1: Class,
// CollectionId, FilterType, SyncKey; 14.0+: SyncKey, CollectionId, Options).
func tpEstimateXML(v eas.Version, coll, key string) string {
	if v == eas.V121 {
		return `<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection><Class>Email</Class><CollectionId>` + coll +
			`</CollectionId><FilterType xmlns="AirSync:">0</FilterType><SyncKey xmlns="AirSync:">` + key + `</SyncKey></Collection></Collections></GetItemEstimate>`
	}
	return `<GetItemEstimate xmlns="GetItemEstimate:"><Collections><Collection><SyncKey xmlns="AirSync:">` + key + `</SyncKey><CollectionId>` + coll +
		`</CollectionId><Options xmlns="AirSync:"><FilterType>0</FilterType></Options></Collection></Collections></GetItemEstimate>`
}

// tpComposeBody is a 14.0+ ComposeMail request carrying mime (opaque).
func tpComposeBody(cmd eas.Command, src, coll string, mime []byte) []byte {
	t := func(s string) wbxml.Tag { return wbxml.MustTag("ComposeMail:" + s) }
	root := wbxml.NewElement(t(string(cmd)), wbxml.NewText(t("ClientId"), fmt.Sprintf("%s-%d", cmd, time.Now().UnixNano())))
	if cmd != eas.CmdSendMail {
		root.Children = append(root.Children, wbxml.NewElement(t("Source"), wbxml.NewText(t("FolderId"), coll), wbxml.NewText(t("ItemId"), src)))
	}
	root.Children = append(root.Children, wbxml.NewElement(t("SaveInSentItems")), wbxml.NewOpaque(t("Mime"), mime))
	b, err := wbxml.Marshal(root)
	Expect(err).NotTo(HaveOccurred())
	return b
}

// tpInjectWithAttachment puts a mail with a PDF in the user's Inbox and
// returns the attachment's FileReference.
func tpInjectWithAttachment(f *fw.Framework, user string) string {
	res, err := f.Exchange.Inject(f.Ctx(), user, exchange.InjectRequest{From: "docs@example.org", Subject: "report attached", Body: "see attachment",
		Attachments: []exchange.InjectAttachment{{Name: "report.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4\n% transparency\n")}}})
	Expect(err).NotTo(HaveOccurred())
	Expect(res.Message.Attachments).NotTo(BeEmpty())
	return res.Message.Attachments[0].FileReference
}

// tpSMIMECertificate is a fresh self-signed S/MIME certificate, base64 DER.
func tpSMIMECertificate() string {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	now := time.Now()
	tpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "transparency"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, pub, priv)
	Expect(err).NotTo(HaveOccurred())
	return base64.StdEncoding.EncodeToString(der)
}
