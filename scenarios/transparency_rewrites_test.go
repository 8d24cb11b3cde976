package scenarios_test

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Where the seeds have the gateway rewrite, the transparency specs say
// exactly what may differ: Provision's policy document when the UEM
// assigned a policy (nothing else of the answer, nothing of the
// request), and blocked answers, which the gateway gives itself without
// Exchange ever seeing the request.

var _ = Describe("Protocol transparency where the gateway rewrites", func() {
	f := fw.New()

	for i, v := range eas.Versions() {
		b64 := i%2 == 1

		fw.It(fmt.Sprintf("Provision passes unchanged both ways when no policy is assigned and the server's policy applies, at %s", v),
			fw.IDs("FLOW-01", "ASP-17", "ASP-20"), fw.Conformance(fw.FeatureTransparency, fw.FeaturePolicy), func() {
				d := tpDevice(f, v, b64)
				got, e := f.Relay(d, tpProvisionPhase1(v, d))
				fw.ExpectTransparent(got, e)
				key := tpText(got.Root(), "Provision:Policies", "Provision:Policy", "Provision:PolicyKey")
				Expect(key).NotTo(BeEmpty())
				got, e = f.Relay(d, tpProvisionAck(key))
				fw.ExpectTransparent(got, e)
				Expect(tpText(got.Root(), "Provision:Status")).To(Equal("1"))
			})

		fw.It(fmt.Sprintf("Provision with an assigned policy differs from Exchange's answer only in the policy document, at %s", v),
			fw.IDs("ACT-13", "ASP-17", "FLOW-09"), fw.Conformance(fw.FeatureTransparency, fw.FeaturePolicy), func() {
				d := tpDevice(f, v, b64)
				Expect(d.Connect(f.Ctx())).To(Succeed())
				p := uemapi.NewPolicy("Transparency " + d.ID())
				p.PasswordRequired, p.MinPasswordLength = true, 11
				p = f.CreatePolicy(p)
				a, err := f.Association(d)
				Expect(err).NotTo(HaveOccurred())
				_, err = f.UEM.Act(f.Ctx(), a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID})
				Expect(err).NotTo(HaveOccurred())
				Eventually(func() *string { _, _ = d.Sync(f.Ctx()); return d.Policy().MinDevicePasswordLength }).Should(HaveValue(Equal("11")),
					"the assigned policy reached the gateway")

				got, e := f.Relay(d, tpProvisionPhase1(v, d))
				fw.ExpectRequestUnchanged(got, e)
				Expect(got.Status).To(Equal(e.Status))
				server, err := wbxml.Parse(e.ResponseBody, wbxml.Limits{})
				Expect(err).NotTo(HaveOccurred(), "Exchange answered WBXML")
				mine := got.Root()
				Expect(mine).NotTo(BeNil(), "the device got WBXML")
				Expect(tpPolicyDoc(server.Root, "MinDevicePasswordLength")).To(Equal("4"), "Exchange sent its own policy")
				Expect(tpPolicyDoc(mine, "MinDevicePasswordLength")).To(Equal("11"), "the device got the UEM's")
				Expect(wbxml.Diff(tpWithoutPolicyData(server.Root), tpWithoutPolicyData(mine))).To(BeEmpty(),
					"outside the policy document the device got Exchange's answer (Status, PolicyType, PolicyKey, ...)")

				key := tpText(mine, "Provision:Policies", "Provision:Policy", "Provision:PolicyKey")
				got, e = f.Relay(d, tpProvisionAck(key))
				fw.ExpectTransparent(got, e)
				Expect(tpText(got.Root(), "Provision:Status")).To(Equal("1"))
			})

		fw.It(fmt.Sprintf("a blocked device's commands are answered by the gateway and never reach Exchange, at %s", v),
			fw.IDs("FLOW-03", "FLOW-08"), fw.Conformance(fw.FeatureTransparency, fw.FeatureBlock), func() {
				d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Version, c.Base64Query = v, b64 })
				md := f.Register(d)
				Expect(d.Connect(f.Ctx())).To(Succeed())
				_, err := f.UEM.SetSecurityViolation(f.Ctx(), md.UUID, true)
				Expect(err).NotTo(HaveOccurred())
				Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))

				after := f.LastExchangeSeq(d)
				for _, rr := range tpEveryCommand(v) {
					got, err := d.Raw(f.Ctx(), rr)
					Expect(err).NotTo(HaveOccurred())
					if v == eas.V121 || rr.Cmd == eas.CmdGetAttachment {
						Expect(got.Status).To(Equal(http.StatusForbidden), "%s: HTTP 403 up to 12.1", rr.Cmd)
						continue
					}
					Expect(got.Status).To(Equal(http.StatusOK), "%s", rr.Cmd)
					Expect(got.Root()).NotTo(BeNil(), "%s: a WBXML answer", rr.Cmd)
					Expect(tpGlobalStatus(got.Root())).To(Equal("129"), "%s: Status 129 from 14.0", rr.Cmd)
				}
				f.NotRelayed(d, after, "a blocked device's requests never reach Exchange")
			})
	}
})

// tpProvisionPhase1 asks for the policy, with DeviceInformation from 14.1.
func tpProvisionPhase1(v eas.Version, d *device.Device) device.RawRequest {
	info, cfg := "", d.Config()
	if v.Compare(eas.V141) >= 0 {
		info = `<DeviceInformation xmlns="Settings:"><Set><Model>` + cfg.Model + `</Model><FriendlyName>` + d.ID() +
			`</FriendlyName><OS>` + cfg.OS() + `</OS></Set></DeviceInformation>`
	}
	return tpRaw(eas.CmdProvision, `<Provision xmlns="Provision:">`+info+`<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>`)
}

// tpProvisionAck acknowledges the policy sent with the temporary key.
func tpProvisionAck(key string) device.RawRequest {
	return tpRaw(eas.CmdProvision, `<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>`+
		key+`</PolicyKey><Status>1</Status></Policy></Policies></Provision>`)
}

// tpPolicyDoc is a field of the EASProvisionDoc in a Provision answer.
func tpPolicyDoc(root *wbxml.Node, field string) string {
	return tpText(root, "Provision:Policies", "Provision:Policy", "Provision:Data", "Provision:EASProvisionDoc", "Provision:"+field)
}

// tpWithoutPolicyData is a copy of a Provision answer whose policy Data
// is empty: what must be equal when the gateway replaces the policy.
func tpWithoutPolicyData(n *wbxml.Node) *wbxml.Node {
	c := *n
	if c.Tag.String() == "Provision:Data" {
		c.Children, c.Content = nil, nil
		return &c
	}
	c.Children = make([]*wbxml.Node, len(n.Children))
	for i, ch := range n.Children {
		c.Children[i] = tpWithoutPolicyData(ch)
	}
	return &c
}

// tpEveryCommand is one plausible request of every command the version
// has, Provision aside.
func tpEveryCommand(v eas.Version) []device.RawRequest {
	out := []device.RawRequest{
		tpRaw(eas.CmdFolderSync, `<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>`),
		tpRaw(eas.CmdSync, tpSyncXML(v, "1", "0", false)),
		tpRaw(eas.CmdGetItemEstimate, tpEstimateXML(v, "1", "1")),
		tpRaw(eas.CmdPing, `<Ping xmlns="Ping:"><HeartbeatInterval>60</HeartbeatInterval><Folders><Folder><Id>1</Id><Class>Email</Class></Folder></Folders></Ping>`),
		tpRaw(eas.CmdItemOperations, `<ItemOperations xmlns="ItemOperations:"><Fetch><Store>Mailbox</Store><FileReference xmlns="AirSyncBase:">1:1:0</FileReference></Fetch></ItemOperations>`),
		tpRaw(eas.CmdMoveItems, `<MoveItems xmlns="Move:"><Move><SrcMsgId>1:1</SrcMsgId><SrcFldId>1</SrcFldId><DstFldId>3</DstFldId></Move></MoveItems>`),
		tpRaw(eas.CmdSettings, `<Settings xmlns="Settings:"><UserInformation><Get/></UserInformation></Settings>`),
		tpRaw(eas.CmdFolderCreate, `<FolderCreate xmlns="FolderHierarchy:"><SyncKey>1</SyncKey><ParentId>0</ParentId><DisplayName>X</DisplayName><Type>12</Type></FolderCreate>`),
		tpRaw(eas.CmdFolderUpdate, `<FolderUpdate xmlns="FolderHierarchy:"><SyncKey>1</SyncKey><ServerId>100</ServerId><ParentId>0</ParentId><DisplayName>Y</DisplayName></FolderUpdate>`),
		tpRaw(eas.CmdFolderDelete, `<FolderDelete xmlns="FolderHierarchy:"><SyncKey>1</SyncKey><ServerId>100</ServerId></FolderDelete>`),
		tpRaw(eas.CmdSearch, `<Search xmlns="Search:"><Store><Name>GAL</Name><Query>a</Query></Store></Search>`),
		tpRaw(eas.CmdResolveRecipients, `<ResolveRecipients xmlns="ResolveRecipients:"><To>a</To></ResolveRecipients>`),
		tpRaw(eas.CmdValidateCert, `<ValidateCert xmlns="ValidateCert:"><Certificates><Certificate>`+tpSMIMECertificate()+`</Certificate></Certificates></ValidateCert>`),
		tpRaw(eas.CmdMeetingResponse, `<MeetingResponse xmlns="MeetingResponse:"><Request><UserResponse>1</UserResponse><CollectionId>1</CollectionId><RequestId>1:1</RequestId></Request></MeetingResponse>`),
	}
	mime := []byte("To: bob@elsewhere.example\r\nSubject: blocked\r\n\r\nx\r\n")
	for _, cmd := range []eas.Command{eas.CmdSendMail, eas.CmdSmartForward, eas.CmdSmartReply} {
		if v == eas.V121 {
			out = append(out, device.RawRequest{Cmd: cmd, Body: mime, ContentType: eas.ContentTypeMessage, ItemID: "1:1", CollectionID: "1"})
		} else {
			out = append(out, device.RawRequest{Cmd: cmd, Body: tpComposeBody(cmd, "1:1", "1", mime)})
		}
	}
	switch v {
	case eas.V121:
		out = append(out, device.RawRequest{Cmd: eas.CmdGetAttachment, AttachmentName: "1:1:0"})
	case eas.V161:
		out = append(out, tpRaw(eas.CmdFind, `<Find xmlns="Find:"><SearchId>1</SearchId><ExecuteSearch><MailBoxSearchCriterion><Query><FreeText>a</FreeText></Query></MailBoxSearchCriterion></ExecuteSearch></Find>`))
	}
	return out
}

// tpGlobalStatus is the Status child of a response root, in the root's
// code page.
func tpGlobalStatus(root *wbxml.Node) string {
	page, _, _ := strings.Cut(root.Tag.String(), ":")
	return tpText(root, page+":Status")
}
