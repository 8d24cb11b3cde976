package scenarios_test

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// The interop corpus through the gateway: each request modelled on a
// protocol example is filled with the live mailbox's ids, sent by a
// device, must reach Exchange unchanged and come back unchanged, and the
// answer must carry every element of the example response it is paired
// with (the example's element paths; values differ from mailbox to
// mailbox). The encodings themselves are checked against libwbxml in
// interop_corpus_test.go.

// interopStep is one request of the corpus and the example response its
// answer must match ("" when the answer is an empty 200).
type interopStep struct {
	cmd               eas.Command
	request, response string
}

var interopCases = []struct {
	name    string
	version eas.Version
	b64     bool
	steps   []interopStep
}{
	{"FolderSync downloads the hierarchy", eas.V141, false, []interopStep{{eas.CmdFolderSync, "ascmd-foldersync-request.xml", "ascmd-foldersync-response.xml"}}},
	{"Sync synchronizes a folder for the first time", eas.V141, true, []interopStep{{eas.CmdSync, "ascmd-sync-initial-request.xml", "ascmd-sync-initial-response.xml"}}},
	{"Sync gets new mail with a body preference", eas.V160, false, []interopStep{{eas.CmdSync, "ascmd-sync-getchanges-request.xml", "ascmd-sync-getchanges-response.xml"}}},
	{"GetItemEstimate estimates the items to synchronize", eas.V141, false, []interopStep{{eas.CmdGetItemEstimate, "ascmd-getitemestimate-request.xml", "ascmd-getitemestimate-response.xml"}}},
	{"MoveItems moves a mail to Deleted Items", eas.V140, true, []interopStep{{eas.CmdMoveItems, "ascmd-moveitems-request.xml", "ascmd-moveitems-response.xml"}}},
	{"Ping reports the changed folder", eas.V141, false, []interopStep{{eas.CmdPing, "ascmd-ping-request.xml", "ascmd-ping-response.xml"}}},
	{"ItemOperations fetches an attachment", eas.V161, true, []interopStep{{eas.CmdItemOperations, "ascmd-itemoperations-fetch-request.xml", "ascmd-itemoperations-fetch-response.xml"}}},
	{"SendMail sends a new mail", eas.V160, true, []interopStep{{eas.CmdSendMail, "ascmd-sendmail-request.xml", ""}}},
	{"SmartReply replies to a mail on the server", eas.V141, false, []interopStep{{eas.CmdSmartReply, "ascmd-smartreply-request.xml", ""}}},
	{"SmartForward forwards a mail on the server", eas.V161, false, []interopStep{{eas.CmdSmartForward, "ascmd-smartforward-request.xml", ""}}},
	{"FolderCreate, FolderUpdate and FolderDelete manage a folder", eas.V141, true, []interopStep{
		{eas.CmdFolderCreate, "ascmd-foldercreate-request.xml", "ascmd-foldercreate-response.xml"},
		{eas.CmdFolderUpdate, "ascmd-folderupdate-request.xml", "ascmd-folderupdate-response.xml"},
		{eas.CmdFolderDelete, "ascmd-folderdelete-request.xml", "ascmd-folderdelete-response.xml"},
	}},
	{"MeetingResponse accepts a meeting request", eas.V141, false, []interopStep{{eas.CmdMeetingResponse, "ascmd-meetingresponse-request.xml", "ascmd-meetingresponse-response.xml"}}},
	{"ResolveRecipients resolves a name", eas.V140, false, []interopStep{{eas.CmdResolveRecipients, "ascmd-resolverecipients-request.xml", "ascmd-resolverecipients-response.xml"}}},
	{"Search searches the GAL", eas.V141, true, []interopStep{{eas.CmdSearch, "ascmd-search-gal-request.xml", "ascmd-search-gal-response.xml"}}},
	{"Search searches the mailbox", eas.V160, false, []interopStep{{eas.CmdSearch, "ascmd-search-mailbox-request.xml", "ascmd-search-mailbox-response.xml"}}},
	{"Settings reads Oof and user information and sets device information", eas.V141, false, []interopStep{{eas.CmdSettings, "ascmd-settings-request.xml", "ascmd-settings-response.xml"}}},
	{"ValidateCert validates an S/MIME certificate", eas.V161, true, []interopStep{{eas.CmdValidateCert, "ascmd-validatecert-request.xml", "ascmd-validatecert-response.xml"}}},
	{"Find searches the mailbox (16.1)", eas.V161, false, []interopStep{{eas.CmdFind, "ascmd-find-request.xml", "ascmd-find-response.xml"}}},
	{"the command line: a POST with the plain request line and headers", eas.V141, false, []interopStep{{eas.CmdFolderSync, "ashttp-foldersync-request.xml", "ascmd-foldersync-response.xml"}}},
	{"the command line: a POST with the base64 request line", eas.V161, true, []interopStep{{eas.CmdFolderSync, "ashttp-foldersync-request.xml", "ascmd-foldersync-response.xml"}}},
}

var _ = Describe("Interop corpus through the gateway", func() {
	f := fw.New()

	for _, c := range interopCases {
		ids := fw.IDs("FLOW-04")
		if c.steps[0].cmd == eas.CmdFolderSync { // the request line and headers reach the server as sent
			ids = fw.IDs("FLOW-04", "DA-05")
		}
		fw.It(fmt.Sprintf("%s at %s as in the protocol examples", c.name, c.version), ids, fw.Conformance(fw.FeatureTransparency), func() {
			d := tpDevice(f, c.version, c.b64)
			vals := interopSetup(f, d)
			for _, st := range c.steps {
				got, e := f.Relay(d, interopRequest(st, vals))
				fw.ExpectTransparent(got, e)
				Expect(e.Version).To(Equal(c.version.String()), "%s: Exchange read the protocol version the device sent", st.request)
				expectLikeExample(got, st)
				interopLearn(vals, got.Root())
			}
		})
	}

	fw.It("Provision: the initial request and the acknowledgement at 14.1 as in the MS-ASPROV examples", fw.IDs("FLOW-01", "ASP-20"),
		fw.Conformance(fw.FeatureTransparency, fw.FeaturePolicy), func() {
			d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Version = eas.V141 })
			f.Register(d)
			vals := map[string]string{}
			for _, st := range []interopStep{{eas.CmdProvision, "asprov-initial-request.xml", "asprov-initial-response.xml"},
				{eas.CmdProvision, "asprov-ack-request.xml", "asprov-ack-response.xml"}} {
				got, e := f.Relay(d, interopRequest(st, vals))
				fw.ExpectTransparent(got, e)
				expectLikeExample(got, st)
				interopLearn(vals, got.Root())
			}
			// Passing the Provision unchanged was the gateway's decision: it
			// reported the device, which the UEM allowed with no policy of its
			// own (a relay that decides nothing passes the rest: nginx did).
			Expect(f.SyncStatus(d)()).To(Equal("Allowed"), "the gateway reported the device at its Provision")
		})

	fw.It("Provision: a remote wipe and its acknowledgement at 14.1 as in the MS-ASPROV examples, answered by the gateway", fw.IDs("ACT-05", "ACT-07"),
		fw.Conformance(fw.FeatureTransparency, fw.FeatureWipe), func() {
			d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Version = eas.V141 })
			f.Register(d)
			Expect(d.Connect(f.Ctx())).To(Succeed())
			f.Act(d, uem.ActWipe, "interop")
			Eventually(func() int {
				got, err := d.Raw(f.Ctx(), tpRaw(eas.CmdFolderSync, `<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>`))
				Expect(err).NotTo(HaveOccurred())
				if got.Status != http.StatusOK {
					return got.Status
				}
				return map[bool]int{true: 449}[eas.Status(atoiOr0(tpGlobalStatus(got.Root()))).NeedsProvision()]
			}).Should(Equal(449), "the wipe reached the gateway: the device is sent to Provision")
			after := f.LastExchangeSeq(d)
			got, err := d.Raw(f.Ctx(), interopRequest(interopStep{eas.CmdProvision, "asprov-initial-request.xml", ""}, nil))
			Expect(err).NotTo(HaveOccurred())
			expectLikeExample(got, interopStep{eas.CmdProvision, "", "asprov-remotewipe-response.xml"})
			got, err = d.Raw(f.Ctx(), interopRequest(interopStep{eas.CmdProvision, "asprov-remotewipe-ack-request.xml", ""}, nil))
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Status).To(Equal(http.StatusOK), "the acknowledgement is answered")
			f.NotRelayed(d, after, "the gateway delivers the wipe itself; Exchange sees neither Provision")
		})

	fw.It("OPTIONS through the gateway answers what Exchange answers, as in the MS-ASHTTP examples", fw.IDs("FLOW-04"), fw.Conformance(fw.FeatureTransparency), func() {
		d := tpDevice(f, eas.V161, false)
		got, e := f.Relay(d, device.RawRequest{Method: http.MethodOptions})
		fw.ExpectResponseUnchanged(got, e)
		Expect(e.Method).To(Equal(http.MethodOptions))
		for _, h := range []string{eas.HeaderProtocolVersions, eas.HeaderProtocolCommands} {
			Expect(got.Header.Values(h)).To(Equal(e.ResponseHeader.Values(h)), "header %s", h)
		}
		for _, v := range eas.Versions() {
			Expect(strings.Split(got.Header.Get(eas.HeaderProtocolVersions), ",")).To(ContainElement(v.String()))
		}
	})
})

// interopSetup prepares the live values the corpus's placeholders name:
// a mail with an attachment and a meeting request in the Inbox, the
// hierarchy and a first Sync (their keys), the user, a certificate.
func interopSetup(f *fw.Framework, d *device.Device) map[string]string {
	vals := map[string]string{"USER": d.User(), "SEARCHID": d.ID(), "CERT": tpSMIMECertificate()}
	res, err := f.Exchange.Inject(f.Ctx(), d.User(), exchange.InjectRequest{From: "docs@example.org", Subject: "report attached", Body: "see attachment",
		Attachments: []exchange.InjectAttachment{{Name: "report.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4\n% interop\n")}}})
	Expect(err).NotTo(HaveOccurred())
	vals["ITEM"], vals["FILEREF"] = res.Message.ServerID, res.Message.Attachments[0].FileReference
	invite, err := f.Exchange.Inject(f.Ctx(), d.User(), exchange.InjectRequest{From: "boss@example.org", Subject: "Planning", Body: "please come",
		Attachments: []exchange.InjectAttachment{{Name: "invite.ics", ContentType: "text/calendar",
			Data: []byte("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Planning\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")}}})
	Expect(err).NotTo(HaveOccurred())
	vals["INVITE"] = invite.Message.ServerID
	fs, err := d.Raw(f.Ctx(), tpRaw(eas.CmdFolderSync, `<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>`))
	Expect(err).NotTo(HaveOccurred())
	vals["FOLDERKEY"], vals["INBOX"], vals["TRASH"] = tpText(fs.Root(), "FolderHierarchy:SyncKey"), tpFolderOfType(fs, "2"), tpFolderOfType(fs, "4")
	sy, err := d.Raw(f.Ctx(), tpRaw(eas.CmdSync, tpSyncXML(d.Config().Version, vals["INBOX"], "0", false)))
	Expect(err).NotTo(HaveOccurred())
	vals["SYNCKEY"] = tpText(sy.Root(), "AirSync:Collections", "AirSync:Collection", "AirSync:SyncKey")
	for k, v := range vals {
		Expect(v).NotTo(BeEmpty(), "setup value %s", k)
	}
	return vals
}

// interopLearn keeps what later steps name: the hierarchy's new key and
// a created folder, the temporary policy key.
func interopLearn(vals map[string]string, root *wbxml.Node) {
	if root == nil {
		return
	}
	if k := tpText(root, "FolderHierarchy:SyncKey"); k != "" {
		vals["FOLDERKEY"] = k
	}
	if id := tpText(root, "FolderHierarchy:ServerId"); id != "" {
		vals["NEWFOLDER"] = id
	}
	if k := tpText(root, "Provision:Policies", "Provision:Policy", "Provision:PolicyKey"); k != "" {
		vals["TEMPKEY"] = k
	}
}

// interopRequest is the corpus request with its placeholders filled.
func interopRequest(st interopStep, vals map[string]string) device.RawRequest {
	x, err := interopXML(st.request, func(name string) string {
		v, ok := vals[name]
		Expect(ok).To(BeTrue(), "%s: no value for {{%s}}", st.request, name)
		return v
	})
	Expect(err).NotTo(HaveOccurred())
	return tpRaw(st.cmd, x)
}

// expectLikeExample checks the device's answer against the example
// response: HTTP 200 and every element path of the example present (an
// empty 200 where the example has no body).
func expectLikeExample(got *device.RawResponse, st interopStep) {
	Expect(got.Status).To(Equal(http.StatusOK), "%s: HTTP status", st.request)
	if st.response == "" {
		Expect(got.Body).To(BeEmpty(), "%s: success is an empty answer", st.request)
		return
	}
	x, err := interopXML(st.response, func(string) string { return "x" })
	Expect(err).NotTo(HaveOccurred())
	example, err := wbxml.ParseXML(strings.NewReader(x))
	Expect(err).NotTo(HaveOccurred())
	root := got.Root()
	Expect(root).NotTo(BeNil(), "%s: a WBXML answer", st.request)
	have := map[string]bool{}
	for _, p := range elementPaths(root, "") {
		have[p] = true
	}
	for _, p := range elementPaths(example, "") {
		Expect(have).To(HaveKey(p), "%s: the answer lacks %s, which %s shows", st.request, p, st.response)
	}
}

// elementPaths lists every element's path of tags from the root.
func elementPaths(n *wbxml.Node, prefix string) []string {
	p := prefix + "/" + n.Tag.String()
	out := []string{p}
	for _, c := range n.Children {
		out = append(out, elementPaths(c, p)...)
	}
	return out
}

func atoiOr0(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + int(r-'0')
	}
	return n
}
