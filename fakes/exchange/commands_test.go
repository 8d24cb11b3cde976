package exchange

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

func inboxSubjects(srv *Server, user string) map[string]bool {
	out := map[string]bool{}
	for _, f := range srv.mailbox(user).info().Folders {
		if f.Type == FolderTypeInbox {
			for _, m := range f.Messages {
				out[m.Subject] = true
			}
		}
	}
	return out
}

func TestSendMailInternalAndExternal(t *testing.T) {
	srv := startServer(t, Config{})
	u2 := srv.Users()[1]
	mime := func(subject string) []byte {
		raw, err := BuildMIME(Compose{To: []string{u2.Email, "Bob <bob@elsewhere.example>"}, Bcc: []string{"hidden@elsewhere.example"}, Subject: subject, Text: "hello",
			Attachments: []MailAttachment{{Name: "a.txt", ContentType: "text/plain", Data: []byte("attached")}}})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// 14.1+: ComposeMail WBXML.
	c := newClient(t, srv, "user1", "DEVSEND", eas.V161)
	c.provision()
	if st := c.call(eas.CmdSendMail, &eas.SendMail{ClientId: "c1", SaveInSentItems: true, Mime: mime("wbxml send")}, nil); st != http.StatusOK {
		t.Fatalf("SendMail: HTTP %d", st)
	}
	// 12.1: raw MIME with SaveInSent in the query.
	c12 := newClient(t, srv, "user1", "DEVSEND12", eas.V121)
	c12.provision()
	resp, _ := c12.raw(eas.CmdSendMail, url.Values{"SaveInSent": {"T"}}, eas.ContentTypeMessage, mime("rfc822 send"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("12.1 SendMail: HTTP %d", resp.StatusCode)
	}
	got := inboxSubjects(srv, u2.Name)
	if !got["wbxml send"] || !got["rfc822 send"] {
		t.Fatalf("internal recipient's Inbox lacks the messages: %v", got)
	}
	out := srv.Outbound()
	if len(out) != 2 || len(out[0].Recipients) != 2 || out[0].Attachments[0].Name != "a.txt" {
		t.Fatalf("outbound: %+v", out)
	}
	for _, f := range srv.mailbox(u2.Name).info().Folders {
		for _, m := range f.Messages {
			if strings.Contains(m.Subject, "send") && strings.Contains(m.To, "hidden") {
				t.Error("Bcc leaked")
			}
		}
	}
	sent := 0
	for _, f := range srv.mailbox("user1").info().Folders {
		if f.Type == FolderTypeSent {
			for _, m := range f.Messages {
				if strings.HasSuffix(m.Subject, " send") {
					sent++
				}
			}
		}
	}
	if sent != 2 {
		t.Errorf("%d copies in Sent Items, want 2", sent)
	}
	// No recipients: Status 119 in a ComposeMail response.
	var fail eas.SendMailResponse
	raw, _ := BuildMIME(Compose{Subject: "nobody", Text: "x"})
	c.call(eas.CmdSendMail, &eas.SendMail{ClientId: "c2", Mime: raw}, &fail)
	if fail.Status != int(eas.StatusMessageHasNoRecipient) {
		t.Errorf("no recipients: status %d", fail.Status)
	}
}

func TestSmartForwardAttachesSource(t *testing.T) {
	srv := startServer(t, Config{})
	u2 := srv.Users()[1]
	c := newClient(t, srv, "user1", "DEVFWD", eas.V141)
	c.provision()
	in := inbox(t, c.folderSync("0"))
	r := c.syncOnce(in, c.syncOnce(in, "0", 0).SyncKey, 100)
	src := r.Commands.Add[0]
	raw, _ := BuildMIME(Compose{To: []string{u2.Email}, Subject: "Fwd: thing", Text: "see below"})
	if st := c.call(eas.CmdSmartForward, &eas.SmartForward{ClientId: "f1", Source: &eas.Source{FolderId: in, ItemId: src.ServerId}, Mime: raw}, nil); st != 200 {
		t.Fatalf("SmartForward: HTTP %d", st)
	}
	for _, f := range srv.mailbox(u2.Name).info().Folders {
		for _, m := range f.Messages {
			if m.Subject == "Fwd: thing" {
				if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "message/rfc822" {
					t.Fatalf("forward attachments: %+v", m.Attachments)
				}
				return
			}
		}
	}
	t.Fatal("forward not delivered")
}

func pingReq(hb int, ids ...string) *eas.PingRequest {
	p := &eas.PingRequest{HeartbeatInterval: hb}
	for _, id := range ids {
		p.Folders = append(p.Folders, eas.PingFolder{Id: id, Class: "Email"})
	}
	return p
}

func TestPing(t *testing.T) {
	srv := startServer(t, Config{MinHeartbeat: 1})
	c := newClient(t, srv, "user1", "DEVPING", eas.V161)
	c.provision()
	in := inbox(t, c.folderSync("0"))
	key := c.syncOnce(in, "0", 0).SyncKey
	c.syncOnce(in, key, 500)

	t.Run("heartbeat expires with Status 1", func(t *testing.T) {
		start := time.Now()
		var r eas.PingResponse
		c.call(eas.CmdPing, pingReq(1, in), &r)
		if r.Status != 1 || time.Since(start) < 900*time.Millisecond {
			t.Fatalf("status %d after %v", r.Status, time.Since(start))
		}
	})
	t.Run("new mail gives Status 2 with the folder", func(t *testing.T) {
		done := make(chan eas.PingResponse, 1)
		go func() {
			var r eas.PingResponse
			c.call(eas.CmdPing, pingReq(60, in), &r)
			done <- r
		}()
		// Inject until the Ping answers: the first injection may land
		// before the Ping is parked, which must also give Status 2.
		if _, err := srv.Inject("user1", InjectRequest{Subject: "ping me", Body: "x"}); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			if r.Status != 2 || len(r.Folders) != 1 || r.Folders[0] != in {
				t.Fatalf("ping: %+v", r)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Ping did not return on new mail")
		}
	})
	t.Run("out of range heartbeat gives Status 5 with the limit", func(t *testing.T) {
		var r eas.PingResponse
		c.call(eas.CmdPing, pingReq(4000, in), &r)
		if r.Status != 5 || r.HeartbeatInterval != 3540 {
			t.Fatalf("ping: %+v", r)
		}
	})
	t.Run("missing parameters give Status 3", func(t *testing.T) {
		var r eas.PingResponse
		c2 := newClient(t, srv, "user1", "DEVPING2", eas.V161)
		c2.provision()
		c2.call(eas.CmdPing, &eas.PingRequest{}, &r)
		if r.Status != 3 {
			t.Fatalf("ping: %+v", r)
		}
	})
}

func TestPolicyKeyEnforcement(t *testing.T) {
	srv := startServer(t, Config{})
	t.Run("12.1 answers 449", func(t *testing.T) {
		c := newClient(t, srv, "user1", "DEVP12", eas.V121)
		resp, _ := c.raw(eas.CmdFolderSync, nil, eas.ContentTypeWBXML, mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"}))
		if resp.StatusCode != eas.HTTPRetryWith {
			t.Fatalf("no key: HTTP %d", resp.StatusCode)
		}
		c.provision()
		c.policyKey = "12345"
		resp, _ = c.raw(eas.CmdFolderSync, nil, eas.ContentTypeWBXML, mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"}))
		if resp.StatusCode != eas.HTTPRetryWith {
			t.Fatalf("stale key: HTTP %d", resp.StatusCode)
		}
	})
	for _, v := range []eas.Version{eas.V141, eas.V161} {
		t.Run(v.String()+" answers 142 and 144", func(t *testing.T) {
			c := newClient(t, srv, "user1", "DEVP"+v.String()[:2]+v.String()[3:], v)
			if fs := c.folderSync("0"); fs.Status != 142 {
				t.Fatalf("no key: FolderSync status %d", fs.Status)
			}
			c.provision()
			good := c.policyKey
			c.policyKey = "12345"
			if fs := c.folderSync("0"); fs.Status != 144 {
				t.Fatalf("stale key: FolderSync status %d", fs.Status)
			}
			var r eas.SyncResponse
			c.call(eas.CmdSync, &eas.SyncRequest{Collections: []eas.SyncCollection{{SyncKey: "0", CollectionId: "1"}}}, &r)
			if r.Status != 144 {
				t.Fatalf("stale key: Sync status %d", r.Status)
			}
			c.policyKey = good
			if fs := c.folderSync("0"); fs.Status != 1 {
				t.Fatalf("good key: FolderSync status %d", fs.Status)
			}
		})
	}
	t.Run("acknowledging a wrong temporary key gives Policy Status 5", func(t *testing.T) {
		c := newClient(t, srv, "user1", "DEVPWRONG", eas.V161)
		var r eas.ProvisionResponse
		c.call(eas.CmdProvision, &eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML, PolicyKey: "1", Status: 1}}}, &r)
		if r.Status != 1 || len(r.Policies) != 1 || r.Policies[0].Status != 5 {
			t.Fatalf("%+v", r)
		}
	})
}

func TestRemoteWipe(t *testing.T) {
	for _, tc := range []struct {
		name        string
		accountOnly bool
		want        string
	}{{"full", false, AccessWiped}, {"account only", true, AccessAccountOnlyWiped}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, Config{})
			c := newClient(t, srv, "user1", "DEVWIPE", eas.V161)
			c.provision()
			c.folderSync("0")
			var p Partnership
			if st := adminCall(t, srv, "POST", "/admin/v1/devices/user1/DEVWIPE/wipe", WipeRequest{AccountOnly: tc.accountOnly}, &p); st != http.StatusAccepted {
				t.Fatalf("wipe: HTTP %d", st)
			}
			// The next command says 140; the next Provision carries the directive.
			if fs := c.folderSync("0"); fs.Status != int(eas.StatusRemoteWipeRequested) {
				t.Fatalf("FolderSync during pending wipe: status %d", fs.Status)
			}
			var r eas.ProvisionResponse
			c.call(eas.CmdProvision, &eas.ProvisionRequest{Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}}, &r)
			if r.Status != 1 || r.RemoteWipe == tc.accountOnly || r.AccountOnlyRemoteWipe != tc.accountOnly || len(r.Policies) != 0 {
				t.Fatalf("directive: %+v", r)
			}
			ack := &eas.ProvisionRequest{RemoteWipe: &eas.WipeAck{Status: 1}}
			if tc.accountOnly {
				ack = &eas.ProvisionRequest{AccountOnlyRemoteWipe: &eas.WipeAck{Status: 1}}
			}
			var r2 eas.ProvisionResponse
			c.call(eas.CmdProvision, ack, &r2)
			if r2.Status != 1 || r2.RemoteWipe || r2.AccountOnlyRemoteWipe {
				t.Fatalf("ack response: %+v", r2)
			}
			var list []Partnership
			adminCall(t, srv, "GET", "/admin/v1/devices", nil, &list)
			if len(list) != 1 || list[0].AccessState != tc.want || list[0].WipeAckStatus != 1 || list[0].WipeAcked.IsZero() {
				t.Fatalf("partnership after ack: %+v", list)
			}
			resp, _ := c.raw(eas.CmdFolderSync, nil, eas.ContentTypeWBXML, mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"}))
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("wiped device: HTTP %d, want 403", resp.StatusCode)
			}
		})
	}
}

func TestWipeEndsHeldPing(t *testing.T) {
	srv := startServer(t, Config{MinHeartbeat: 1})
	c := newClient(t, srv, "user1", "DEVWIPEPING", eas.V161)
	c.provision()
	in := inbox(t, c.folderSync("0"))
	c.syncOnce(in, c.syncOnce(in, "0", 0).SyncKey, 500)
	done := make(chan eas.PingResponse, 1)
	go func() {
		var r eas.PingResponse
		c.call(eas.CmdPing, pingReq(300, in), &r)
		done <- r
	}()
	gomega.NewWithT(t).Eventually(srv.WaitingPings).WithTimeout(10*time.Second).Should(gomega.BeEquivalentTo(1), "Ping held")
	if _, err := srv.Wipe("user1", "DEVWIPEPING", false); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.Status != int(eas.StatusRemoteWipeRequested) {
			t.Fatalf("held Ping answered %+v, want Status 140", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("held Ping not released by the wipe")
	}
}

func mustEncode(t testing.TB, msg any) []byte {
	t.Helper()
	b, err := eas.EncodeMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRedirect451(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVREDIR", eas.V161)
	c.provision()
	if st := adminCall(t, srv, "PUT", "/admin/v1/mailboxes/user1/redirect", RedirectRequest{URL: "https://mail2.example.test/Microsoft-Server-ActiveSync"}, nil); st != http.StatusNoContent {
		t.Fatalf("set redirect: HTTP %d", st)
	}
	resp, _ := c.raw(eas.CmdFolderSync, nil, eas.ContentTypeWBXML, mustEncode(t, &eas.FolderSyncRequest{SyncKey: "0"}))
	if loc, ok := eas.ParseRedirect(resp); !ok || loc != "https://mail2.example.test/Microsoft-Server-ActiveSync" {
		t.Fatalf("HTTP %d, location %q", resp.StatusCode, loc)
	}
	other := newClient(t, srv, "user2", "DEVREDIR", eas.V161)
	other.provision() // other mailboxes are not redirected
	adminCall(t, srv, "DELETE", "/admin/v1/mailboxes/user1/redirect", nil, nil)
	if fs := c.folderSync("0"); fs.Status != 1 {
		t.Fatalf("after clearing: status %d", fs.Status)
	}
}

func TestAuthentication(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVAUTH", eas.V161)
	for _, tc := range []struct {
		name, password string
		noAuth         bool
	}{{"no credentials", "", true}, {"wrong password", "wrong", false}} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.EASURL()+"?Cmd=FolderSync&User=user1&DeviceId=DEVAUTH&DeviceType=T", nil)
			req.Header.Set(eas.HeaderProtocolVersion, "16.1")
			if !tc.noAuth {
				req.SetBasicAuth("user1", tc.password)
			}
			resp, err := c.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="`) {
				t.Fatalf("HTTP %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	t.Run("DOMAIN\\user and SMTP address log on", func(t *testing.T) {
		for _, login := range []string{`CORP\user1`, "user1@example.test"} {
			req, _ := http.NewRequest("OPTIONS", srv.EASURL(), nil)
			req.SetBasicAuth(login, c.password)
			resp, err := c.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s: HTTP %d", login, resp.StatusCode)
			}
		}
	})
}

func TestOptionsAndHealth(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVOPT", eas.V161)
	req, _ := http.NewRequest("OPTIONS", srv.EASURL(), nil)
	req.SetBasicAuth("user1", c.password)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	o, err := eas.ParseOptionsHeaders(resp.Header)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Versions) != 5 || o.Versions[0] != eas.V121 || o.Versions[4] != eas.V161 || len(o.Commands) != len(supportedCommands) {
		t.Fatalf("OPTIONS: %+v", o)
	}
	resp, err = c.hc.Get(srv.URL() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
}

func TestSettingsEstimateMove(t *testing.T) {
	srv := startServer(t, Config{})
	c := newClient(t, srv, "user1", "DEVMISC", eas.V161)
	c.provision()
	var sr eas.SettingsResponse
	c.call(eas.CmdSettings, &eas.SettingsRequest{DeviceInformation: &eas.DeviceInformation{Set: &eas.DeviceInformationSet{Model: "Pixel 42", OS: "Android 17"}}, UserInformation: &eas.UserInformation{}}, &sr)
	if sr.Status != 1 || sr.DeviceInformation.Status != 1 || sr.UserInformation.Get.EmailAddresses.SmtpAddress[0] != "user1@example.test" {
		t.Fatalf("settings: %+v", sr)
	}
	if p := srv.Partnerships(); p[0].Model != "Pixel 42" || p[0].OS != "Android 17" {
		t.Fatalf("device information not recorded: %+v", p[0])
	}
	fs := c.folderSync("0")
	in := inbox(t, fs)
	key := c.syncOnce(in, "0", 0).SyncKey
	var er eas.GetItemEstimateResponse
	c.call(eas.CmdGetItemEstimate, &eas.GetItemEstimateRequest{Collections: []eas.GetItemEstimateCollection{{SyncKey: key, CollectionId: in}}}, &er)
	if len(er.Response) != 1 || er.Response[0].Status != 1 || *er.Response[0].Collection.Estimate != len(srv.Generated("user1")) {
		t.Fatalf("estimate: %+v", er)
	}
	r := c.syncOnce(in, key, 100)
	var mr eas.MoveItemsResponse
	c.call(eas.CmdMoveItems, &eas.MoveItemsRequest{Move: []eas.MoveItem{{SrcMsgId: r.Commands.Add[0].ServerId, SrcFldId: in, DstFldId: "3"}, {SrcMsgId: "1:0", SrcFldId: in, DstFldId: "3"}}}, &mr)
	if len(mr.Response) != 2 || mr.Response[0].Status != 3 || !strings.HasPrefix(mr.Response[0].DstMsgId, "3:") || mr.Response[1].Status != 1 {
		t.Fatalf("move: %+v", mr)
	}
	// The device moved it itself: no Delete comes back for it.
	if r2 := c.syncOnce(in, r.SyncKey, 100); r2.Commands != nil {
		t.Fatalf("after move: %+v", r2.Commands)
	}
}
