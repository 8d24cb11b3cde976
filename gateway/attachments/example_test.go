package attachments_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The ActiveSync handler's view: classify the device, pick its option,
// rewrite a MIME body on its way down, and undo the encryption when the
// device sends the attachment to someone outside the company.
func Example() {
	cfg := uemapi.AttachmentControl{
		Enabled:        true,
		IOSNative:      uemapi.AttachEncrypt,
		SecureApps:     uemapi.AttachSecureApp,
		OtherPlatforms: uemapi.AttachRemove,
	}
	policy, _ := attachments.NewPolicy(cfg, []string{"example.com"})
	keys, _ := attachments.NewKeyring(attachments.Key{ID: "uem-1", Algorithm: uemapi.AES256GCM, Secret: bytes.Repeat([]byte{7}, 32)})
	device := stats.NewRegistry().Device("ApplC39XXXXX", "alice")
	rw := attachments.NewRewriter(policy, keys).WithStats(device)

	info := &eas.DeviceInformation{Set: &eas.DeviceInformationSet{Model: "iPhone15,2", OS: "iOS 17.4", OSLanguage: "de-DE"}}
	class := attachments.Classify("iPhone", "Apple-iPhone15C2/2104.100", info)
	opt := policy.OptionFor(class)
	fmt.Println(class, opt)

	msg := "From: bob@example.com\r\nTo: alice@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
		"--b\r\nContent-Type: application/pdf; name=q3.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
		"--b\r\nContent-Type: image/png; name=logo.png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n"
	var down bytes.Buffer
	res, _ := rw.RewriteMIME(strings.NewReader(msg), &down, opt, attachments.Language("iPhone", "", info))
	fmt.Println("encrypted", res.Encrypted, "excluded", res.Excluded, strings.Contains(down.String(), `name=q3.pdf.attachctrl`))

	// Alice forwards it outside the company.
	up := strings.Replace(down.String(), "To: alice@example.com", "To: carol@partner.test", 1)
	var sent bytes.Buffer
	res, _ = rw.RewriteOutbound(strings.NewReader(up), &sent, attachments.Outbound{Option: opt, Forward: true})
	fmt.Println("decrypted", res.Decrypted, strings.Contains(sent.String(), "JVBERi0xLjQK"))
	fmt.Println(stats.AttachmentsEncrypted, device.Get(stats.AttachmentsEncrypted), stats.AttachmentsFwdRestored, device.Get(stats.AttachmentsFwdRestored))
	// Output:
	// ios_native encrypt
	// encrypted 1 excluded 1 true
	// decrypted 1 true
	// attachments-encrypted 1 attachments-fwd-restored 1
}
