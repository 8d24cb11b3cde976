package attachments

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// ATT-07, ATT-05: GetAttachment bodies (raw bytes) under each option.
func TestATT07_GetAttachment(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	eml := buildMessage("attached", []file{pdf, jpg}, nil)
	cases := []struct {
		name   string
		in     AttachmentInfo
		data   []byte
		opt    Option
		want   string
		check  func(t *testing.T, out []byte)
		embeds int
	}{
		{"encrypt pdf", AttachmentInfo{"report.pdf", "application/pdf"}, pdf.data, Encrypt, "report.pdf.attachctrl", func(t *testing.T, out []byte) {
			if !bytes.Equal(decryptBytes(t, kr, out), pdf.data) {
				t.Fatal("does not decrypt")
			}
		}, 0},
		{"excluded jpg", AttachmentInfo{"pic.jpg", "image/jpeg"}, jpg.data, Encrypt, "pic.jpg", func(t *testing.T, out []byte) {
			if !bytes.Equal(out, jpg.data) {
				t.Fatal("changed")
			}
		}, 0},
		{"remove", AttachmentInfo{"report.pdf", "application/pdf"}, pdf.data, Remove, "report.pdf.removed.html", func(t *testing.T, out []byte) {
			if !bytes.Contains(out, []byte(RemovedText(""))) {
				t.Fatal("no text")
			}
		}, 0},
		{"deliver as is", AttachmentInfo{"report.pdf", "application/pdf"}, pdf.data, DeliverAsIs, "report.pdf", func(t *testing.T, out []byte) {
			if !bytes.Equal(out, pdf.data) {
				t.Fatal("changed")
			}
		}, 0},
		{"attached email walked one level down", AttachmentInfo{"fwd.eml", "message/rfc822"}, eml, Encrypt, "fwd.eml", func(t *testing.T, out []byte) {
			ls := leaves(t, out)
			if ls[0].name != "report.pdf.attachctrl" || ls[1].name != "pic.jpg" {
				t.Fatalf("%q %q", ls[0].name, ls[1].name)
			}
		}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newStats()
			rw := NewRewriter(p, kr).WithStats(st)
			var out bytes.Buffer
			info, res, err := rw.RewriteAttachment(&out, bytes.NewReader(c.data), c.in, c.opt, "")
			if err != nil {
				t.Fatal(err)
			}
			if info.Name != c.want || rw.DisplayName(c.in.Name, c.opt) != c.want {
				t.Fatalf("name %q, DisplayName %q, want %q", info.Name, rw.DisplayName(c.in.Name, c.opt), c.want)
			}
			c.check(t, out.Bytes())
			if st.Get(stats.AttachmentsFetched) != 1 || res.Embedded != c.embeds {
				t.Fatalf("fetched %d, %+v", st.Get(stats.AttachmentsFetched), res)
			}
		})
	}
}

// ATT-07: ItemOperations Fetch results, inline (base64 Data) and in the
// parts of a multipart response, and a fetched mailbox item with a MIME
// body, survive a WBXML round trip.
func TestATT07_ItemOperationsInlineAndMultipart(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES256GCM))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	item, err := wbxml.StructToNode(&eas.EmailData{Subject: "s", Body: &eas.Body{Type: eas.BodyMIME, Part: 2}})
	if err != nil {
		t.Fatal(err)
	}
	data := base64.StdEncoding.EncodeToString(pdf.data)
	resp := &eas.ItemOperationsResponse{Status: 1, Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{
		{Status: 1, FileReference: "ref-inline", Properties: &eas.FetchProperties{ContentType: "application/pdf", Total: eas.Ptr(len(pdf.data)), Data: &data}},
		{Status: 1, FileReference: "ref-part", Properties: &eas.FetchProperties{ContentType: "application/pdf", Total: eas.Ptr(len(pdf.data)), Part: 1}},
		{Status: 1, CollectionId: "5", ServerId: "5:1", Class: "Email", Properties: &eas.FetchProperties{Unknown: item.Children}},
	}}}
	parts := [][]byte{nil, pdf.data, buildMessage("item", []file{pdf, txt}, nil)}
	names := map[string]string{"ref-inline": "report.pdf", "ref-part": "report.pdf"}
	st := newStats()
	out, res, err := NewRewriter(p, kr).WithStats(st).RewriteItemOperations(resp, parts, func(r string) string { return names[r] }, Encrypt, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Encrypted != 3 || res.Excluded != 1 || st.Get(stats.AttachmentsFetched) != 2 {
		t.Fatalf("%+v fetched=%d", res, st.Get(stats.AttachmentsFetched))
	}
	// Round trip through WBXML and the multipart framing.
	wb, err := eas.EncodeMessage(resp)
	if err != nil {
		t.Fatal(err)
	}
	out[0] = wb
	body, err := eas.BuildMultipart(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := eas.ParseMultipart(body, eas.MultipartLimits{})
	if err != nil {
		t.Fatal(err)
	}
	var back eas.ItemOperationsResponse
	if err := wbxml.UnmarshalStruct(got[0], &back, wbxml.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	f := back.Response.Fetch
	inline, err := base64.StdEncoding.DecodeString(*f[0].Properties.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(decryptBytes(t, kr, inline), pdf.data) || *f[0].Properties.Total != len(inline) || f[0].Properties.ContentType != "application/octet-stream" {
		t.Fatal("inline fetch")
	}
	if !bytes.Equal(decryptBytes(t, kr, got[1]), pdf.data) || *f[1].Properties.Total != len(got[1]) {
		t.Fatal("multipart fetch")
	}
	ls := leaves(t, got[2])
	if ls[0].name != "report.pdf.attachctrl" || ls[1].name != "notes.txt" {
		t.Fatalf("item body: %q %q", ls[0].name, ls[1].name)
	}
	e, err := f[2].Properties.Email()
	if err != nil || e.Subject != "s" || e.Body.Part != 2 {
		t.Fatalf("item: %+v %v", e, err)
	}

	// A ranged fetch of a controlled attachment is refused.
	ranged := &eas.ItemOperationsResponse{Response: &eas.ItemOperationsResults{Fetch: []eas.FetchResponse{
		{FileReference: "r", Properties: &eas.FetchProperties{Range: "0-99", Data: &data}},
	}}}
	if _, _, err := NewRewriter(p, kr).RewriteItemOperations(ranged, nil, nil, Encrypt, ""); !errors.Is(err, ErrRangeFetch) {
		t.Fatalf("ranged: %v", err)
	}
}

// ATT-05, ATT-07: Sync responses with MIME bodies are rewritten and
// attachment lists get the names the device will be served; a truncated
// body that cannot be rewritten loses its data.
func TestATT07_SyncResponse(t *testing.T) {
	kr := testRing(t, testKey("k1", uemapi.AES128ECB))
	p := mustPolicy(t, allOptions(uemapi.AttachEncrypt, uemapi.AttachRemove, uemapi.AttachRemove))
	mimeMsg := string(buildMessage("sync", []file{pdf, txt}, nil))
	cut := mimeMsg[:len(mimeMsg)/2]
	resp := &eas.SyncResponse{Collections: []eas.SyncCollectionResponse{{SyncKey: "2", CollectionId: "5", Status: 1, Commands: &eas.SyncCommands{
		Add: []eas.SyncItem{
			{ServerId: "5:1", ApplicationData: &eas.EmailData{Body: &eas.Body{Type: eas.BodyMIME, Data: &mimeMsg, Truncated: eas.Ptr(false)}}},
			{ServerId: "5:2", ApplicationData: &eas.EmailData{Body: &eas.Body{Type: eas.BodyMIME, Data: &cut, Truncated: eas.Ptr(true), EstimatedDataSize: 999}}},
			{ServerId: "5:3", ApplicationData: &eas.EmailData{Attachments: []eas.Attachment{{DisplayName: "report.pdf", FileReference: "f1", EstimatedDataSize: 200_000}, {DisplayName: "notes.txt", FileReference: "f2"}}, Body: &eas.Body{Type: eas.BodyHTML}}},
		},
	}}}}
	res, err := NewRewriter(p, kr).RewriteSync(resp, Encrypt, "")
	if err != nil {
		t.Fatal(err)
	}
	add := resp.Collections[0].Commands.Add
	ls := leaves(t, []byte(*add[0].ApplicationData.Body.Data))
	if ls[0].name != "report.pdf.secure" || ls[1].name != "notes.txt" || res.Encrypted != 1 {
		t.Fatalf("%q %q %+v", ls[0].name, ls[1].name, res)
	}
	if int(add[0].ApplicationData.Body.EstimatedDataSize) != len(*add[0].ApplicationData.Body.Data) {
		t.Fatal("EstimatedDataSize not updated")
	}
	if b := add[1].ApplicationData.Body; *b.Data != "" || !*b.Truncated || strings.Contains(*b.Data, "Content-Type") {
		t.Fatalf("truncated body kept: %q", *b.Data)
	}
	a := add[2].ApplicationData.Attachments
	k, _ := kr.Current()
	if a[0].EstimatedDataSize != uint32(EncryptedSize(200_000, k)) {
		t.Fatalf("EstimatedDataSize %d", a[0].EstimatedDataSize)
	}
	if a[0].DisplayName != "report.pdf.secure" || a[1].DisplayName != "notes.txt" {
		t.Fatalf("attachment list: %q %q", a[0].DisplayName, a[1].DisplayName)
	}
	if _, err := eas.EncodeMessage(resp); err != nil {
		t.Fatal(err)
	}
}
