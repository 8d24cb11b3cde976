package attachments

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// secret is an attachment whose plaintext must never pass.
var secret = []byte("%PDF-1.7 SECRET-PLAINTEXT-MARKER %%EOF")

func hasSecret(b []byte) bool { return bytes.Contains(b, []byte("SECRET-PLAINTEXT-MARKER")) }

func encryptRewriter(t testing.TB) *Rewriter {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	return NewRewriter(mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachSecureApp, uemapi.AttachRemove)), kr)
}

// Entities whose headers a device may read differently from the gateway
// are controlled, never taken for the message body: a repeated
// Content-Type (the gateway reads the first, a device may read the last)
// and an unparsable one whose name a lenient reader still finds.
func TestAmbiguousHeadersAreControlled(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString(secret)
	for name, part := range map[string]string{
		"repeated Content-Type": "Content-Type: text/plain\r\nContent-Type: application/pdf; name=\"x.pdf\"\r\n",
		"repeated disposition":  "Content-Type: text/plain\r\nContent-Disposition: inline\r\nContent-Disposition: attachment; filename=\"x.pdf\"\r\n",
		"unparsable type":       "Content-Type: text/plain; name=\"x.pdf\"; name=\"y.pdf\"\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			msg := "Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n" +
				"--b\r\n" + part + "Content-Transfer-Encoding: base64\r\n\r\n" + b64 + "\r\n--b--\r\n"
			for _, opt := range []Option{Encrypt, Remove} {
				out, res := rewrite(t, encryptRewriter(t), []byte(msg), opt, "")
				if bytes.Contains(out, []byte(b64)) || hasSecret(out) || res.Encrypted+res.Removed != 1 {
					t.Fatalf("%v: the part passed (%+v):\n%s", opt, res, out)
				}
			}
		})
	}
}

// The parts of a multipart/digest default to message/rfc822 (RFC 2046
// 5.1.5), as a device reads them: walked as text, the attachments of the
// embedded message passed.
func TestDigestPartsAreEmbeddedMessages(t *testing.T) {
	inner := buildMessage("inner", []file{{"x.pdf", "application/pdf", secret}}, nil)
	msg := "Subject: digest\r\nMIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n" + string(inner) + "\r\n--d--\r\n"
	out, res := rewrite(t, encryptRewriter(t), []byte(msg), Encrypt, "")
	if bytes.Contains(out, []byte(base64.StdEncoding.EncodeToString(secret))) || res.Encrypted != 1 || res.Embedded != 1 {
		t.Fatalf("digest part not walked as a message: %+v", res)
	}
}

// ATT-21: only S/MIME content passes untouched: a pkcs7-mime part named as
// another file is controlled like any attachment.
func TestATT21_PKCS7MimeNamedAsAnotherFileIsControlled(t *testing.T) {
	p7m := []byte("CMS-ENVELOPED-BYTES")
	enc := base64.StdEncoding.EncodeToString
	for name, c := range map[string]struct {
		ct        string
		untouched bool
	}{
		"smime.p7m":            {"application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m", true},
		"x-pkcs7, unnamed":     {"application/x-pkcs7-mime; smime-type=enveloped-data", true},
		"report.pdf":           {"application/pkcs7-mime; smime-type=enveloped-data; name=report.pdf", false},
		"signed-data":          {"application/pkcs7-mime; smime-type=signed-data; name=smime.p7m", false},
		"authEnveloped, named": {"application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m", true},
	} {
		t.Run(name, func(t *testing.T) {
			msg := "Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: " + c.ct +
				"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + enc(p7m) + "\r\n--b--\r\n"
			out, _ := rewrite(t, encryptRewriter(t), []byte(msg), Encrypt, "")
			if got := bytes.Contains(out, []byte(enc(p7m))); got != c.untouched {
				t.Fatalf("untouched = %v, want %v", got, c.untouched)
			}
			// The same content fetched on its own (ItemOperations, GetAttachment).
			var dst bytes.Buffer
			fname := "smime.p7m"
			if name == "report.pdf" {
				fname = name
			}
			_, _, err := encryptRewriter(t).RewriteAttachment(&dst, bytes.NewReader(p7m), AttachmentInfo{Name: fname, ContentType: c.ct}, Encrypt, "")
			if err != nil || bytes.Equal(dst.Bytes(), p7m) != c.untouched {
				t.Fatalf("RewriteAttachment untouched = %v, want %v (%v)", bytes.Equal(dst.Bytes(), p7m), c.untouched, err)
			}
		})
	}
}

// ATT-21: a fetched S/MIME encrypted item with an HTML body keeps its
// smime.p7m; the gateway renamed it to smime.p7m.attachctrl.
func TestATT21_FetchedSMIMEItemKeepsItsP7M(t *testing.T) {
	html := "<p>encrypted</p>"
	e := &eas.EmailData{MessageClass: "IPM.Note.SMIME", Body: &eas.Body{Type: eas.BodyHTML, Data: &html},
		Attachments: []eas.Attachment{{DisplayName: "smime.p7m", FileReference: "1:1:0", Method: 1}}}
	n, err := wbxml.StructToNode(e)
	if err != nil {
		t.Fatal(err)
	}
	resp := &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{
		{Status: 1, ServerId: "1:1", Properties: &eas.FetchProperties{Unknown: n.Children}}}}}
	if _, _, err := encryptRewriter(t).RewriteItemOperations(resp, [][]byte{nil}, nil, Encrypt, ""); err != nil {
		t.Fatal(err)
	}
	got, err := resp.Response.Fetch[0].Properties.Email()
	if err != nil || got.Attachments[0].DisplayName != "smime.p7m" {
		t.Fatalf("listed as %q (%v)", got.Attachments[0].DisplayName, err)
	}
}

// Protocol 2.5 carries MIME in email:MIMEData, which the eas types do not
// model: it passed untouched.
func TestMIMEDataIsRewritten(t *testing.T) {
	msg := buildMessage("old", []file{{"x.pdf", "application/pdf", secret}}, nil)
	e := &eas.EmailData{Subject: "old", Unknown: []*wbxml.Node{
		wbxml.NewOpaque(wbxml.MustTag("Email:MIMEData"), msg),
		wbxml.NewText(wbxml.MustTag("Email:MIMESize"), "1"),
	}}
	sr := &eas.SyncResponse{Collections: []eas.SyncCollectionResponse{{Commands: &eas.SyncCommands{Add: []eas.SyncItem{{ApplicationData: e}}}}}}
	res, err := encryptRewriter(t).RewriteSync(sr, Remove, "")
	if err != nil {
		t.Fatal(err)
	}
	data := e.Unknown[0].Content
	if bytes.Contains(data, []byte(base64.StdEncoding.EncodeToString(secret))) || res.Removed != 1 || string(e.Unknown[1].Content) != strconv.Itoa(len(data)) {
		t.Fatalf("MIMEData not rewritten: %+v", res)
	}
}

// A fetched item whose MIME body is in a part and which also carries
// inline Data (attachment content without a FileReference): the part was
// rewritten, the Data passed.
func TestFetchedItemDataWithoutFileReferenceIsDropped(t *testing.T) {
	d := base64.StdEncoding.EncodeToString(secret)
	resp := &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{
		{Status: 1, ServerId: "1:1", Properties: &eas.FetchProperties{Data: &d}}}}}
	dev := newStats()
	_, res, err := encryptRewriter(t).WithStats(dev).RewriteItemOperations(resp, [][]byte{nil}, nil, Encrypt, "")
	if err != nil || resp.Response.Fetch[0].Properties.Data != nil || res.Unprocessable != 1 || dev.Get(stats.AttachmentRewriteFailed) != 1 {
		t.Fatalf("Data kept: %+v %v", res, err)
	}
}

// A fetched attachment whose inline Data is not base64 is replaced by the
// removal notice, not refused with the whole response.
func TestUndecodableFetchedAttachmentIsReplaced(t *testing.T) {
	bad := base64.StdEncoding.EncodeToString(secret) + "AA" // a dangling character after the padding is dropped
	resp := &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{
		{Status: 1, FileReference: "1:1:0", Properties: &eas.FetchProperties{ContentType: "application/pdf", Data: &bad}}}}}
	_, res, err := encryptRewriter(t).RewriteItemOperations(resp, [][]byte{nil}, nil, Encrypt, "de")
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Response.Fetch[0].Properties
	got, _ := base64.StdEncoding.DecodeString(*p.Data)
	if !bytes.Equal(got, RemovedHTML("de")) || p.ContentType != "text/html; charset=utf-8" || res.Unprocessable != 1 {
		t.Fatalf("got %q %q %+v", got, p.ContentType, res)
	}
}
