package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// syncInbox runs FolderSync and an initial Sync of the Inbox with MIME
// bodies and returns every e-mail the device received.
func (w *world) syncInbox(dev, user string) []*eas.EmailData {
	w.t.Helper()
	fs, _ := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	_, root := w.post(dev, user, eas.CmdFolderSync, fs)
	var fr eas.FolderSyncResponse
	if root == nil || wbxml.NodeToStruct(root, &fr) != nil || fr.Changes == nil {
		w.t.Fatal("FolderSync failed")
	}
	inbox := ""
	for _, f := range fr.Changes.Add {
		if f.Type == 2 {
			inbox = f.ServerId
		}
	}
	key := "0"
	var mails []*eas.EmailData
	for i := 0; i < 10; i++ {
		req := &eas.SyncRequest{Collections: []eas.SyncCollection{{SyncKey: key, CollectionId: inbox, WindowSize: 50,
			Options: []eas.SyncOptions{{MIMESupport: eas.Ptr(2), BodyPreference: []eas.BodyPreference{{Type: 4}}}}}}}
		if key == "0" {
			req.Collections[0].Options = nil
		}
		body, _ := wbxml.MarshalStruct(req)
		code, root := w.post(dev, user, eas.CmdSync, body)
		if root == nil {
			if key != "0" {
				return mails // an empty answer: nothing more to sync
			}
			w.t.Fatalf("Sync: HTTP %d, no body", code)
		}
		var sr eas.SyncResponse
		if err := wbxml.NodeToStruct(root, &sr); err != nil || len(sr.Collections) == 0 {
			w.t.Fatalf("Sync response: %v", err)
		}
		c := sr.Collections[0]
		key = c.SyncKey
		if c.Commands != nil {
			for _, it := range c.Commands.Add {
				if it.ApplicationData != nil {
					mails = append(mails, it.ApplicationData)
				}
			}
		}
		if !c.MoreAvailable && i > 0 {
			return mails
		}
	}
	return mails
}

func TestAttachmentControlEncryptAndRemove(t *testing.T) {
	// ATT-04/07 end to end: an iPhone's attachments arrive encrypted
	// (.attachctrl) under Encrypt, and decrypt with the UEM's key; under
	// Remove they arrive as .removed.html.
	option := uemapi.AttachEncrypt
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.AttachmentControl = uemapi.AttachmentControl{Enabled: true, IOSNative: option, SecureApps: uemapi.AttachSecureApp,
				OtherPlatforms: uemapi.AttachDeliverAsIs, ExclusionList: []string{"ics"}, WorkDomains: []string{"corp.example"}}
		}
	})
	w.provision("ALICEPHONE", "alice")
	mails := w.syncInbox("ALICEPHONE", "alice")
	var key uemapi.AttachmentKey
	w.uemAdmin(http.MethodGet, "/attachment-key", nil, &key)
	k, err := attachments.KeyFromUEM(&key)
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := attachments.NewKeyring(k)
	encrypted, decryptedOK := 0, 0
	for _, m := range mails {
		if m.Body == nil || m.Body.Data == nil {
			continue
		}
		for _, name := range attachmentNames(t, *m.Body.Data) {
			if strings.HasSuffix(name, ".ics") {
				continue // excluded: delivered as is (INC-04 list given)
			}
			if !strings.HasSuffix(name, ".attachctrl") {
				t.Errorf("attachment %q was not encrypted", name)
				continue
			}
			encrypted++
		}
	}
	if encrypted == 0 {
		t.Fatalf("no encrypted attachment in %d mails", len(mails))
	}
	// Decrypt one through the public format, as `gatehouse attachments decrypt` would.
	for _, m := range mails {
		if m.Body == nil || m.Body.Data == nil {
			continue
		}
		for _, blob := range attachmentBodies(t, *m.Body.Data, ".attachctrl") {
			var out bytes.Buffer
			if err := attachments.DecryptStream(&out, bytes.NewReader(blob), ring); err != nil {
				t.Fatalf("decrypting a delivered attachment: %v", err)
			}
			decryptedOK++
		}
	}
	if decryptedOK == 0 {
		t.Fatal("no delivered attachment decrypted with the UEM's key")
	}

	// Switch to Remove through the UEM: the next device gets .removed.html.
	gc := uemapi.DefaultGatewayConfig()
	gc.ActiveSync.Services = []uemapi.ActiveSyncService{uemapi.DefaultActiveSyncService(w.exch.Addr())}
	gc.ActiveSync.Services[0].ServerTLS = true
	gc.AttachmentControl = uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachRemove, SecureApps: uemapi.AttachSecureApp, OtherPlatforms: uemapi.AttachDeliverAsIs}
	w.uemAdmin(http.MethodPut, "/gateways/gw1/config", gc, nil)
	gomega.NewWithT(t).Eventually(func() bool {
		w.keys["BOBPHONE"] = ""
		w.provision("BOBPHONE", "bob")
		for _, m := range w.syncInbox("BOBPHONE", "bob") {
			if m.Body != nil && m.Body.Data != nil && strings.Contains(*m.Body.Data, ".removed.html") {
				return true
			}
		}
		return false
	}).WithTimeout(20*time.Second).Should(gomega.BeTrue(), "Remove in force")
	_ = context.Background()
}

// mimeParts walks a MIME message (into multiparts and attached messages)
// and calls fn with each leaf part's file name and decoded body.
func mimeParts(t *testing.T, raw string, fn func(name string, body []byte)) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("delivered MIME does not parse: %v", err)
	}
	walkPart(t, textproto.MIMEHeader(msg.Header), msg.Body, fn)
}

func walkPart(t *testing.T, h textproto.MIMEHeader, body io.Reader, fn func(string, []byte)) {
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(t, p.Header, p, fn)
		}
	}
	data, _ := io.ReadAll(body)
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "base64") {
		data, _ = io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(data)))
	}
	if mt == "message/rfc822" {
		mimeParts(t, string(data), fn)
		return
	}
	name := params["name"]
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	if name != "" {
		fn(name, data)
	}
}

func attachmentNames(t *testing.T, raw string) []string {
	var names []string
	mimeParts(t, raw, func(n string, _ []byte) { names = append(names, n) })
	return names
}

func attachmentBodies(t *testing.T, raw, suffix string) [][]byte {
	var out [][]byte
	mimeParts(t, raw, func(n string, b []byte) {
		if strings.HasSuffix(n, suffix) {
			out = append(out, b)
		}
	})
	return out
}
