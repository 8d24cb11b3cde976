package activesync

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// pdf is the plaintext of the test attachment; its marker must never
// reach a device under Encrypt or Remove.
const pdfMarker = "GATEHOUSE-PLAINTEXT-PDF-MARKER"

var pdf = []byte("%PDF-1.7\n" + pdfMarker + "\n%%EOF\n")

// attachRig is a gateway with attachment control in front of a server
// whose answer each test sets.
type attachRig struct {
	srv   *httptest.Server
	stats *stats.Registry
	log   *syncBuffer
	ring  *attachments.Keyring

	mu    sync.Mutex
	reply http.HandlerFunc

	acceptLanguage string // sent by sendAs when set
}

func newAttachRig(t *testing.T, opt uemapi.AttachmentOption) *attachRig {
	t.Helper()
	r := &attachRig{stats: stats.NewRegistry(), log: &syncBuffer{}}
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		f := r.reply
		r.mu.Unlock()
		_, _ = io.Copy(io.Discard, req.Body)
		f(w, req)
	}))
	t.Cleanup(up.Close)
	upURL, _ := url.Parse(up.URL)
	cache := devicecache.New(nil)
	link, err := uemsync.New(uemsync.Config{UEM: uemsynctest.New(), Cache: cache, FailOpen: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Upstream: upURL, Transport: up.Client().Transport, Link: link, Cache: cache,
		Stats: r.stats, Log: slog.New(slog.NewTextHandler(r.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := attachments.NewPolicy(uemapi.AttachmentControl{Enabled: true, IOSNative: opt,
		SecureApps: uemapi.AttachSecureApp, OtherPlatforms: uemapi.AttachDeliverAsIs, ExclusionList: []string{"ics"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret := bytes.Repeat([]byte{7}, 32)
	if r.ring, err = attachments.NewKeyring(attachments.Key{ID: "k1", Algorithm: uemapi.AES256GCM, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	h.SetAttachmentControl(&AttachmentControl{Policy: policy, Rewriter: attachments.NewRewriter(policy, r.ring)})
	r.srv = httptest.NewTLSServer(h)
	t.Cleanup(r.srv.Close)
	return r
}

// answer makes the server answer every request with status, content type
// and body.
func (r *attachRig) answer(status int, contentType string, body []byte) {
	r.setReply(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

func (r *attachRig) setReply(f http.HandlerFunc) {
	r.mu.Lock()
	r.reply = f
	r.mu.Unlock()
}

// do sends cmd from an iPhone with the native Mail app (the "iOS using
// Native Email" dropdown) and returns the response and its body.
func (r *attachRig) do(t *testing.T, cmd eas.Command, query string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	q := &eas.Query{Cmd: cmd, User: "alice", DeviceID: "IPHONE1", DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/Microsoft-Server-ActiveSync?"+q.Encode(false)+query, strings.NewReader("x"))
	req.SetBasicAuth("alice", "secret")
	req.Header.Set(eas.HeaderProtocolVersion, "16.1")
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	req.Header.Set("User-Agent", "Apple-iPhone15C2/2104.100")
	for k, v := range hdr {
		req.Header.Set(k, v[0])
	}
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return resp, b
}

func (r *attachRig) counter(c stats.Counter) uint64 {
	d, ok := r.stats.Lookup("IPHONE1", "alice")
	if !ok {
		return 0
	}
	return d.Get(c)
}

// leaks reports whether b holds the PDF's plaintext, raw or base64 (at
// any of the three alignments).
func leaks(b []byte) bool {
	if bytes.Contains(b, []byte(pdfMarker)) {
		return true
	}
	for pad := 0; pad < 3; pad++ {
		enc := base64.StdEncoding.EncodeToString(append(bytes.Repeat([]byte{'x'}, pad), pdfMarker...))
		if bytes.Contains(b, []byte(enc[4:len(enc)-4])) {
			return true
		}
	}
	return false
}

// mimeWithPDF is a message with a text body and the PDF attached.
func mimeWithPDF() string {
	return "From: eve@evil.example\r\nTo: alice@corp.example\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
		"--b1\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(pdf) + "\r\n--b1--\r\n"
}

// syncWith is a Sync response adding one item.
func syncWith(e *eas.EmailData) *eas.SyncResponse {
	return &eas.SyncResponse{Collections: []eas.SyncCollectionResponse{{SyncKey: "2", CollectionId: "5", Status: 1,
		Commands: &eas.SyncCommands{Add: []eas.SyncItem{{ServerId: "5:1", ApplicationData: e}}}}}}
}

func mustWBXML(t testing.TB, v any) []byte {
	t.Helper()
	b, err := wbxml.MarshalStruct(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mimeEmail(mime string) *eas.EmailData {
	return &eas.EmailData{Subject: "invoice", MessageClass: "IPM.Note",
		Body: &eas.Body{Type: eas.BodyMIME, EstimatedDataSize: uint32(len(mime)), Data: &mime}}
}

// fetchInline is an ItemOperations response with one attachment fetched
// by FileReference, inline.
func fetchInline(ref, contentType string, data []byte) *eas.ItemOperationsResponse {
	d := base64.StdEncoding.EncodeToString(data)
	return &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{{
		Status: 1, FileReference: ref, Properties: &eas.FetchProperties{ContentType: contentType, Total: eas.Ptr(len(data)), Data: &d}}}}}
}

// TestAttachNULInOpaqueContentTypeIsStillEncrypted: issue 18's report. A
// server sent the ContentType of a fetched PDF as opaque data holding a
// NUL; the response did not decode and passed as it came, the PDF in
// clear to an iPhone under Encrypt. Now the NUL is scrubbed and the PDF
// is encrypted.
func TestAttachNULInOpaqueContentTypeIsStillEncrypted(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachEncrypt)
	n, err := wbxml.StructToNode(fetchInline("5:1:0", "application/pdf", pdf))
	if err != nil {
		t.Fatal(err)
	}
	ct := n.Find(wbxml.MustTag("ItemOperations:Response"), wbxml.MustTag("ItemOperations:Fetch"),
		wbxml.MustTag("ItemOperations:Properties"), wbxml.MustTag("AirSyncBase:ContentType"))
	ct.Content, ct.Opaque = []byte("application/pdf\x00"), true
	body, err := wbxml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	r.answer(http.StatusOK, eas.ContentTypeWBXML, body)
	resp, got := r.do(t, eas.CmdItemOperations, "", nil)
	if leaks(got) {
		t.Fatalf("the PDF reached the device in clear (HTTP %d)", resp.StatusCode)
	}
	var ir eas.ItemOperationsResponse
	if err := wbxml.UnmarshalStruct(got, &ir, wbxml.Limits{}); err != nil || ir.Response == nil || ir.Response.Fetch[0].Properties.Data == nil {
		t.Fatalf("HTTP %d, not an ItemOperations answer: %v", resp.StatusCode, err)
	}
	enc, _ := base64.StdEncoding.DecodeString(*ir.Response.Fetch[0].Properties.Data)
	var plain bytes.Buffer
	if err := attachments.DecryptStream(&plain, bytes.NewReader(enc), r.ring); err != nil || !bytes.Equal(plain.Bytes(), pdf) {
		t.Fatalf("the device did not get the PDF encrypted: %v", err)
	}
}

// TestAttachUndecodableResponseIsRefused: a Sync or ItemOperations
// response that does not decode is refused with 502 under Encrypt and
// Remove, counted and logged without content; with Deliver as is it
// passes as it came.
func TestAttachUndecodableResponseIsRefused(t *testing.T) {
	garbage := append([]byte{0x03, 0x01, 0x6a, 0x00, 0x45, 0x99}, pdf...) // a WBXML header, then nonsense
	for _, opt := range []uemapi.AttachmentOption{uemapi.AttachEncrypt, uemapi.AttachRemove} {
		for _, cmd := range []eas.Command{eas.CmdSync, eas.CmdItemOperations, eas.CmdSearch} {
			t.Run(string(opt)+"/"+string(cmd), func(t *testing.T) {
				r := newAttachRig(t, opt)
				r.answer(http.StatusOK, eas.ContentTypeWBXML, garbage)
				resp, got := r.do(t, cmd, "", nil)
				if resp.StatusCode != http.StatusBadGateway || leaks(got) {
					t.Fatalf("HTTP %d, leak %v; want 502 and nothing of the response", resp.StatusCode, leaks(got))
				}
				if n := r.counter(stats.AttachmentRewriteFailed); n != 1 {
					t.Fatalf("attachment-rewrite-failed = %d, want 1", n)
				}
				gomega.NewWithT(t).Eventually(r.log.String).WithTimeout(20*time.Second).Should(gomega.ContainSubstring("attachment control refused"), "the refusal logged")
				if strings.Contains(r.log.String(), pdfMarker) {
					t.Fatalf("log:\n%s", r.log.String())
				}
			})
		}
	}
	r := newAttachRig(t, uemapi.AttachDeliverAsIs)
	r.answer(http.StatusOK, eas.ContentTypeWBXML, garbage)
	if resp, got := r.do(t, eas.CmdSync, "", nil); resp.StatusCode != http.StatusOK || !bytes.Equal(got, garbage) {
		t.Fatalf("Deliver as is: HTTP %d, body changed", resp.StatusCode)
	}
}

// TestAttachCompressedResponseIsRewritten: a server that gzips its answer
// (the device accepts gzip) no longer gets it past the rewrite.
func TestAttachCompressedResponseIsRewritten(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachRemove)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(mustWBXML(t, syncWith(mimeEmail(mimeWithPDF()))))
	_ = zw.Close()
	r.setReply(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", eas.ContentTypeWBXML)
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(z.Bytes())
	})
	resp, got := r.do(t, eas.CmdSync, "", http.Header{"Accept-Encoding": {"gzip"}})
	if leaks(got) || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d, leak %v", resp.StatusCode, leaks(got))
	}
	if !bytes.Contains(got, []byte("invoice.pdf.removed.html")) {
		t.Fatal("the attachment was not replaced by the removal notice")
	}
}

// TestAttachHiddenBodyIsDropped: a second airsyncbase Body, which the
// struct binding keeps unmodelled and would write back as it came, does
// not carry the MIME past the rewrite.
func TestAttachHiddenBodyIsDropped(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachEncrypt)
	html := "<p>hello</p>"
	e := &eas.EmailData{Subject: "x", Body: &eas.Body{Type: eas.BodyHTML, Data: &html}}
	sr := syncWith(e)
	n, err := wbxml.StructToNode(sr)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := wbxml.StructToNode(&struct {
		XMLName struct{} `wbxml:"AirSyncBase:Body"`
		Type    int      `wbxml:"Type"`
		Data    string   `wbxml:"Data"`
	}{Type: 4, Data: mimeWithPDF()})
	ad := n.Find(wbxml.MustTag("AirSync:Collections"), wbxml.MustTag("AirSync:Collection"), wbxml.MustTag("AirSync:Commands"),
		wbxml.MustTag("AirSync:Add"), wbxml.MustTag("AirSync:ApplicationData"))
	ad.Children = append(ad.Children, second)
	body, _ := wbxml.Marshal(n)
	r.answer(http.StatusOK, eas.ContentTypeWBXML, body)
	resp, got := r.do(t, eas.CmdSync, "", nil)
	if resp.StatusCode != http.StatusOK || leaks(got) || !bytes.Contains(got, []byte(html)) {
		t.Fatalf("HTTP %d, leak %v", resp.StatusCode, leaks(got))
	}
	if r.counter(stats.AttachmentRewriteFailed) != 1 {
		t.Fatalf("attachment-rewrite-failed = %d", r.counter(stats.AttachmentRewriteFailed))
	}
}

// TestAttachUnrewritableMIMEIsReplaced: a MIME body the rewrite cannot
// walk (its multipart never ends) is replaced by the removal notice.
func TestAttachUnrewritableMIMEIsReplaced(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachEncrypt)
	broken := strings.TrimSuffix(mimeWithPDF(), "\r\n--b1--\r\n") + "\r\n--b1\r\nContent-Type: text/plain\r\n"
	r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, syncWith(mimeEmail(broken))))
	resp, got := r.do(t, eas.CmdSync, "", nil)
	var sr eas.SyncResponse
	if err := wbxml.UnmarshalStruct(got, &sr, wbxml.Limits{}); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %v", resp.StatusCode, err)
	}
	data := *sr.Collections[0].Commands.Add[0].ApplicationData.Body.Data
	if leaks(got) || !strings.Contains(data, "attachment.removed.html") || !strings.Contains(data, "Subject: invoice") {
		t.Fatalf("delivered body:\n%s", data)
	}
	if r.counter(stats.AttachmentRewriteFailed) != 1 {
		t.Fatalf("attachment-rewrite-failed = %d", r.counter(stats.AttachmentRewriteFailed))
	}
}

// TestAttachSearchResultsAreRewritten: Search results carry items like a
// Sync; their MIME bodies passed untouched.
func TestAttachSearchResultsAreRewritten(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachRemove)
	props, err := wbxml.StructToNode(mimeEmail(mimeWithPDF()))
	if err != nil {
		t.Fatal(err)
	}
	tag := wbxml.MustTag
	root := wbxml.NewElement(tag("Search:Search"), wbxml.NewText(tag("Search:Status"), "1"),
		wbxml.NewElement(tag("Search:Response"), wbxml.NewElement(tag("Search:Store"), wbxml.NewText(tag("Search:Status"), "1"),
			wbxml.NewElement(tag("Search:Result"), wbxml.NewText(tag("AirSync:Class"), "Email"), wbxml.NewText(tag("Search:LongId"), "L1"),
				&wbxml.Node{Tag: tag("Search:Properties"), Children: props.Children}),
			wbxml.NewText(tag("Search:Range"), "0-0"), wbxml.NewText(tag("Search:Total"), "1"))))
	body, _ := wbxml.Marshal(root)
	r.answer(http.StatusOK, eas.ContentTypeWBXML, body)
	resp, got := r.do(t, eas.CmdSearch, "", nil)
	if resp.StatusCode != http.StatusOK || leaks(got) || !bytes.Contains(got, []byte("invoice.pdf.removed.html")) {
		t.Fatalf("HTTP %d, leak %v", resp.StatusCode, leaks(got))
	}
}

// TestAttachUnreferencedPartIsEmptied: a multipart part that no rewritten
// element accounts for does not pass.
func TestAttachUnreferencedPartIsEmptied(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachEncrypt)
	ir := &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{{Status: 15, FileReference: "5:1:9"}}}}
	body, err := eas.BuildMultipart([][]byte{mustWBXML(t, ir), pdf})
	if err != nil {
		t.Fatal(err)
	}
	r.answer(http.StatusOK, eas.ContentTypeMultipart, body)
	resp, got := r.do(t, eas.CmdItemOperations, "", nil)
	if resp.StatusCode != http.StatusOK || leaks(got) {
		t.Fatalf("HTTP %d, leak %v", resp.StatusCode, leaks(got))
	}
}

// TestATT21_SMIMEEncryptedPassesUntouchedWithHTMLBody: with an HTML body
// preference an S/MIME encrypted message is listed with its smime.p7m,
// which kept its name, and fetched by FileReference, which passed
// untouched; the gateway turned them into smime.p7m.attachctrl.
func TestATT21_SMIMEEncryptedPassesUntouchedWithHTMLBody(t *testing.T) {
	p7m := []byte("0\x82\x01\x00 enveloped-data CMS, not readable by the gateway")
	const p7mType = "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m"
	for _, opt := range []uemapi.AttachmentOption{uemapi.AttachEncrypt, uemapi.AttachRemove} {
		t.Run(string(opt), func(t *testing.T) {
			r := newAttachRig(t, opt)
			html := "<p>This message is encrypted.</p>"
			e := &eas.EmailData{Subject: "secret", MessageClass: "IPM.Note.SMIME", Body: &eas.Body{Type: eas.BodyHTML, Data: &html},
				Attachments: []eas.Attachment{{DisplayName: "smime.p7m", FileReference: "5:1:0", Method: 1, EstimatedDataSize: uint32(len(p7m))}}}
			r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, syncWith(e)))
			_, got := r.do(t, eas.CmdSync, "", nil)
			var sr eas.SyncResponse
			if err := wbxml.UnmarshalStruct(got, &sr, wbxml.Limits{}); err != nil {
				t.Fatal(err)
			}
			if a := sr.Collections[0].Commands.Add[0].ApplicationData.Attachments[0]; a.DisplayName != "smime.p7m" {
				t.Fatalf("Sync listed %q, want smime.p7m untouched", a.DisplayName)
			}

			// By FileReference, inline and multipart.
			r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, fetchInline("5:1:0", p7mType, p7m)))
			_, got = r.do(t, eas.CmdItemOperations, "", nil)
			var ir eas.ItemOperationsResponse
			if err := wbxml.UnmarshalStruct(got, &ir, wbxml.Limits{}); err != nil {
				t.Fatal(err)
			}
			p := ir.Response.Fetch[0].Properties
			if d, _ := base64.StdEncoding.DecodeString(*p.Data); !bytes.Equal(d, p7m) || p.ContentType != p7mType {
				t.Fatalf("inline fetch changed the S/MIME content: %q %q", p.ContentType, d)
			}
			mp := &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{{
				Status: 1, FileReference: "5:1:0", Properties: &eas.FetchProperties{ContentType: p7mType, Part: 1}}}}}
			body, _ := eas.BuildMultipart([][]byte{mustWBXML(t, mp), p7m})
			r.answer(http.StatusOK, eas.ContentTypeMultipart, body)
			resp, got := r.do(t, eas.CmdItemOperations, "", nil)
			parts, err := eas.ParseMultipart(got, eas.MultipartLimits{})
			if err != nil || len(parts) != 2 || !bytes.Equal(parts[1], p7m) {
				t.Fatalf("multipart fetch changed the S/MIME content: HTTP %d %v", resp.StatusCode, err)
			}
		})
	}
}

// TestATT21_SignedMailIsControlled: signed-only mail is processed
// (docs/attachments.md): its attachments are readable.
func TestATT21_SignedMailIsControlled(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachEncrypt)
	e := &eas.EmailData{Subject: "signed", MessageClass: "IPM.Note.SMIME.MultipartSigned",
		Attachments: []eas.Attachment{{DisplayName: "invoice.pdf", FileReference: "5:1:0", Method: 1}, {DisplayName: "smime.p7s", FileReference: "5:1:1", Method: 1}}}
	r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, syncWith(e)))
	_, got := r.do(t, eas.CmdSync, "", nil)
	var sr eas.SyncResponse
	if err := wbxml.UnmarshalStruct(got, &sr, wbxml.Limits{}); err != nil {
		t.Fatal(err)
	}
	if a := sr.Collections[0].Commands.Add[0].ApplicationData.Attachments[0]; a.DisplayName != "invoice.pdf.attachctrl" {
		t.Fatalf("Sync listed %q", a.DisplayName)
	}
	// Opaque-signed content (signed-data) is readable: controlled.
	r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, fetchInline("5:1:0", "application/pkcs7-mime; smime-type=signed-data; name=smime.p7m", pdf)))
	if _, got = r.do(t, eas.CmdItemOperations, "", nil); leaks(got) {
		t.Fatal("signed-data passed in clear")
	}
}

// TestAttachMissingAttachmentPassesAsTheServerSaidIt: a fetch of an
// attachment the server no longer has is answered as Exchange answers
// it, through attachment control too: ItemOperations Fetch Status 15
// (MS-ASCMD 2.2.3.177.7, MS-ASAIRS 2.2.2.24.1) and, for GetAttachment,
// HTTP 500 (MS-ASCMD 2.2.2.6); never a removal notice or a 502.
func TestAttachMissingAttachmentPassesAsTheServerSaidIt(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachEncrypt)
	ir := &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{{Status: 15, FileReference: "5:1:9"}}}}
	r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, ir))
	resp, got := r.do(t, eas.CmdItemOperations, "", nil)
	var out eas.ItemOperationsResponse
	if err := wbxml.UnmarshalStruct(got, &out, wbxml.Limits{}); err != nil || resp.StatusCode != http.StatusOK || out.Response.Fetch[0].Status != 15 {
		t.Fatalf("HTTP %d %v %+v", resp.StatusCode, err, out.Response)
	}
	r.answer(http.StatusInternalServerError, "text/plain", []byte("attachment not found"))
	resp, _ = r.do(t, eas.CmdGetAttachment, "&AttachmentName=5%3a1%3a9", http.Header{eas.HeaderProtocolVersion: {"12.1"}})
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("GetAttachment of a missing attachment: HTTP %d", resp.StatusCode)
	}
	if r.counter(stats.AttachmentRewriteFailed) != 0 {
		t.Fatal("a missing attachment counted as a rewrite failure")
	}
}

// FuzzAttachInboundNeverLeaks: under Encrypt and Remove, whatever the
// server answers (Sync, ItemOperations inline or multipart, Search,
// GetAttachment), the device never gets the PDF's plaintext. Inputs that
// name S/MIME (which passes untouched by design, ATT-21) or the excluded
// extension are skipped.
func FuzzAttachInboundNeverLeaks(f *testing.F) {
	seeds := fuzzSeeds(f)
	for i, s := range seeds {
		f.Add(s, uint8(i))
	}
	rigs := map[uemapi.AttachmentOption]*inboundRig{
		uemapi.AttachEncrypt: newInboundRig(f, uemapi.AttachEncrypt),
		uemapi.AttachRemove:  newInboundRig(f, uemapi.AttachRemove),
	}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		l := bytes.ToLower(body)
		for _, s := range []string{"pkcs7", "p7m", "smime", "multipart/encrypted", ".ics", ".secure", ".attachctrl"} {
			if bytes.Contains(l, []byte(s)) {
				t.Skip("by design untouched")
			}
		}
		for opt, rg := range rigs {
			out := rg.run(t, body, mode)
			if bytes.Contains(out, []byte(pdfMarker)) {
				t.Fatalf("%s, mode %d: the plaintext reached the device", opt, mode%5)
			}
		}
	})
}

// inboundRig runs rewriteInbound on a response without any network.
type inboundRig struct {
	h *Handler
}

func newInboundRig(t testing.TB, opt uemapi.AttachmentOption) *inboundRig {
	policy, err := attachments.NewPolicy(uemapi.AttachmentControl{Enabled: true, IOSNative: opt,
		SecureApps: uemapi.AttachSecureApp, OtherPlatforms: uemapi.AttachDeliverAsIs, ExclusionList: []string{"ics"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := attachments.NewKeyring(attachments.Key{ID: "k1", Algorithm: uemapi.AES256GCM, Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{cfg: Config{Log: slog.New(slog.DiscardHandler)}}
	h.SetAttachmentControl(&AttachmentControl{Policy: policy, Rewriter: attachments.NewRewriter(policy, ring)})
	return &inboundRig{h: h}
}

var fuzzCommands = []struct {
	cmd         eas.Command
	contentType string
}{
	{eas.CmdSync, eas.ContentTypeWBXML},
	{eas.CmdItemOperations, eas.ContentTypeWBXML},
	{eas.CmdItemOperations, eas.ContentTypeMultipart},
	{eas.CmdSearch, eas.ContentTypeWBXML},
	{eas.CmdGetAttachment, "application/pdf"},
}

func (rg *inboundRig) run(t *testing.T, body []byte, mode uint8) []byte {
	c := fuzzCommands[int(mode)%len(fuzzCommands)]
	x := &exchange{info: &eas.RequestInfo{Query: &eas.Query{Cmd: c.cmd, DeviceID: "D", DeviceType: "iPhone", AttachmentName: "5:1:0"},
		UserAgent: "Apple-iPhone15C2/2104.100"}}
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {c.contentType}},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
	if mode&0x80 != 0 {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, _ = zw.Write(body)
		_ = zw.Close()
		resp.Header.Set("Content-Encoding", "gzip")
		resp.Body = io.NopCloser(&z)
	}
	if err := rg.h.rewriteInbound(resp, x); err != nil {
		return nil // the proxy answers 502
	}
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	resp.Body.Close()
	return out
}

// fuzzSeeds are well-formed answers carrying the PDF, in the order of
// fuzzCommands (a seed's index picks its command).
func fuzzSeeds(t testing.TB) [][]byte {
	html := "<p>hi</p>"
	sync := mustWBXML(t, syncWith(mimeEmail(mimeWithPDF())))
	inline := mustWBXML(t, fetchInline("5:1:0", "application/pdf", pdf))
	item := &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{
		{Status: 1, FileReference: "5:1:0", Properties: &eas.FetchProperties{ContentType: "application/pdf", Total: eas.Ptr(len(pdf)), Part: 1}},
		{Status: 1, CollectionId: "5", ServerId: "5:1", Class: "Email", Properties: &eas.FetchProperties{}}}}}
	e := &eas.EmailData{Subject: "invoice", Body: &eas.Body{Type: eas.BodyMIME, Part: 2},
		Attachments: []eas.Attachment{{DisplayName: "invoice.pdf", FileReference: "5:1:0", Method: 1}}}
	en, _ := wbxml.StructToNode(e)
	item.Response.Fetch[1].Properties.Unknown = en.Children
	multi, err := eas.BuildMultipart([][]byte{mustWBXML(t, item), pdf, []byte(mimeWithPDF())})
	if err != nil {
		t.Fatal(err)
	}
	props, _ := wbxml.StructToNode(mimeEmail(mimeWithPDF()))
	tag := wbxml.MustTag
	search, _ := wbxml.Marshal(wbxml.NewElement(tag("Search:Search"), wbxml.NewText(tag("Search:Status"), "1"),
		wbxml.NewElement(tag("Search:Response"), wbxml.NewElement(tag("Search:Store"), wbxml.NewText(tag("Search:Status"), "1"),
			wbxml.NewElement(tag("Search:Result"), wbxml.NewText(tag("Search:LongId"), "L1"),
				&wbxml.Node{Tag: tag("Search:Properties"), Children: props.Children})))))
	htmlSync := mustWBXML(t, syncWith(&eas.EmailData{Subject: "x", Body: &eas.Body{Type: eas.BodyHTML, Data: &html},
		Attachments: []eas.Attachment{{DisplayName: "invoice.pdf", FileReference: "5:1:0", Method: 1}}}))
	return [][]byte{sync, inline, multi, search, pdf, htmlSync, []byte(mimeWithPDF()), []byte(fmt.Sprint(len(pdf)))}
}
