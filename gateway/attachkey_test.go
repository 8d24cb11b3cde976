package gateway_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// TestATT11_RegeneratedKeyNoLongerDecrypts: after the UEM regenerates the
// attachment key, an attachment encrypted under the old key that a
// device sends to a non-work recipient cannot be decrypted: the gateway
// replaces it by the explanatory text file (seed: "the Standalone Sentry
// is unable to decrypt the attachment because it is using the new key"),
// as it does after a restart, instead of still holding the old key.
func TestATT11_RegeneratedKeyNoLongerDecrypts(t *testing.T) {
	w := newWorld(t, func(w *world) {
		w.gwConfig = func(gc *uemapi.GatewayConfig) {
			gc.AttachmentControl = uemapi.AttachmentControl{Enabled: true, IOSNative: uemapi.AttachEncrypt, SecureApps: uemapi.AttachSecureApp,
				OtherPlatforms: uemapi.AttachDeliverAsIs, WorkDomains: []string{"corp.example"}}
		}
	})
	w.provision("ALICEPHONE", "alice")
	var old uemapi.AttachmentKey
	w.uemAdmin(http.MethodGet, "/attachment-key", nil, &old)
	k, err := attachments.KeyFromUEM(&old)
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	if err := attachments.EncryptStream(&enc, bytes.NewReader([]byte("%PDF-1.7 old figures")), &k); err != nil {
		t.Fatal(err)
	}

	delivered := func() int {
		n := 0
		for _, d := range w.uem.Deliveries() {
			if d.Type == string(uemapi.NotifyKey) && d.Status == uem.DeliveryDelivered {
				n++
			}
		}
		return n
	}
	before := delivered()
	w.uemAdmin(http.MethodPost, "/attachment-key/regenerate", nil, nil)
	gomega.NewWithT(t).Eventually(delivered).WithTimeout(10*time.Second).Should(gomega.BeNumerically(">", before),
		"the gateway took the key.regenerated notification")

	mime := fmt.Sprintf("From: alice@corp.example\r\nTo: bob@partner.example\r\nSubject: old key\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\n"+
		"Content-Type: application/octet-stream; name=\"old.pdf.attachctrl\"\r\nContent-Disposition: attachment; filename=\"old.pdf.attachctrl\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n", base64Lines(enc.Bytes()))
	body, _ := wbxml.MarshalStruct(&eas.SendMail{ClientId: "c1", Mime: []byte(mime)})
	if code, _ := w.post("ALICEPHONE", "alice", eas.CmdSendMail, body); code != http.StatusOK {
		t.Fatalf("SendMail: HTTP %d", code)
	}
	out := w.exch.Outbound()
	if len(out) == 0 {
		t.Fatal("nothing reached the external recipient")
	}
	var names []string
	for _, a := range out[len(out)-1].Attachments {
		names = append(names, a.Name)
	}
	if !slices.Contains(names, "old.pdf"+attachments.UndecryptableSuffix) {
		t.Fatalf("the old-key attachment went out as %v, want it replaced by old.pdf%s", names, attachments.UndecryptableSuffix)
	}
}

// base64Lines is b in base64, in 76-character lines.
func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	out.WriteString(s)
	return out.String()
}
