package gateway_test

// The attachment control counters (ATT-24) through real traffic: Sync of
// mail with an attached message, mail sent and forwarded with an
// encrypted attachment, and GetAttachment answers of the front, whole or
// stalled half way.

import (
	"encoding/base64"
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

const attachmentControl = "TestSTA01CountersOnAttachmentControl"

func init() {
	for _, c := range []stats.Counter{stats.AttachmentsEncrypted, stats.AttachmentEncryptFailures, stats.AttachmentsConverted,
		stats.AttachmentsReplaced, stats.AttachmentReplacedFailures, stats.AttachmentsFwdRestored, stats.AttachmentsFetched,
		stats.AttachmentsEmbedded, stats.AttachmentsRenamed, stats.AttachmentsSizeMB, stats.AttachmentsSizeBytes,
		stats.DecryptionFailures, stats.AttachmentRewriteFailed} {
		pinnedBy[c] = attachmentControl
	}
}

// iPhones get Encrypt, secure apps (DeviceType EmailPlus) Remove; the
// front serves GetAttachment for "front.corp.example".
func TestSTA01CountersOnAttachmentControl(t *testing.T) {
	f := newFront(t)
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.Timeouts.SocketReadWriteMs = 1000
			gc.AttachmentControl = uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachEncrypt,
				SecureApps: uemapi.AttachRemove, OtherPlatforms: uemapi.AttachDeliverAsIs, WorkDomains: []string{"corp.example"}}
			fr := uemapi.DefaultActiveSyncService(f.ln.Addr().String())
			fr.Name, fr.ServerTLS = "front.corp.example", true
			gc.ActiveSync.Services = append(gc.ActiveSync.Services, fr)
		}
	})
	inner := "From: carol@corp.example\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
	w.inject(t, exchange.InjectAttachment{Name: "fwd.eml", ContentType: "message/rfc822", Data: []byte(inner)})
	w.provision("ALICEPHONE", "alice")
	var blob []byte
	for _, m := range w.syncInbox("ALICEPHONE", "alice") { // encrypted, renamed, size-bytes, embedded
		if m.Body != nil && m.Body.Data != nil && blob == nil {
			if bs := attachmentBodies(t, *m.Body.Data, ".attachctrl"); len(bs) > 0 {
				blob = bs[0]
			}
		}
	}
	if blob == nil {
		t.Fatal("no encrypted attachment synced")
	}
	w.sendOutside(t, eas.CmdSendMail, blob)                             // converted
	w.sendOutside(t, eas.CmdSmartForward, blob)                         // fwd-restored
	w.sendOutside(t, eas.CmdSendMail, []byte("not an attachctrl file")) // decryption-failures
	// GetAttachment (12.1) through the front: 1.1 MiB removed for a
	// secure app (replaced, attachments-size-MB), then answers stalled
	// half way: an encryption that fails (iPhone) and a removal that
	// fails (secure app), both cut (attachment-rewrite-failed).
	for _, step := range []struct{ mode, deviceType string }{{"mib", "EmailPlus"}, {"stall", "iPhone"}, {"stall", "EmailPlus"}} {
		f.mode.Store(step.mode)
		q := &eas.Query{Cmd: eas.CmdGetAttachment, User: "alice", DeviceID: "ALICEPHONE", DeviceType: step.deviceType, AttachmentName: "1:1"}
		req, _ := http.NewRequest(http.MethodPost, w.gw.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
		req.SetBasicAuth("alice", "alice-pw")
		req.Header.Set(eas.HeaderProtocolVersion, "12.1")
		req.Header.Set(eas.HeaderPolicyKey, w.keys["ALICEPHONE"])
		req.Host = "front.corp.example"
		if resp, err := w.hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	w.expectPinned()
}

// inject puts a mail with att in alice's Inbox.
func (w *world) inject(t *testing.T, att exchange.InjectAttachment) {
	if _, err := w.exch.Inject("alice", exchange.InjectRequest{Subject: att.Name, From: "carol@corp.example", Body: "see attached",
		Attachments: []exchange.InjectAttachment{att}}); err != nil {
		t.Fatal(err)
	}
}

// sendOutside sends (or forwards) a mail to outside the work domains with
// att attached as report.pdf.attachctrl.
func (w *world) sendOutside(t *testing.T, cmd eas.Command, att []byte) {
	mime := "From: alice@corp.example\r\nTo: dave@outside.example\r\nSubject: report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhere\r\n--B\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"report.pdf.attachctrl\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(att) + "\r\n--B--\r\n"
	var msg any = &eas.SendMail{ClientId: "c1", Mime: []byte(mime)}
	if cmd == eas.CmdSmartForward {
		msg = &eas.SmartForward{ClientId: "c2", ReplaceMime: true, Source: &eas.Source{FolderId: "1", ItemId: "1:1"}, Mime: []byte(mime)}
	}
	body, err := wbxml.MarshalStruct(msg)
	if err != nil {
		t.Fatal(err)
	}
	w.post("ALICEPHONE", "alice", cmd, body)
}
