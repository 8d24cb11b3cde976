package attachments

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Fail closed (issue 18). Under Remove and Encrypt nothing the gateway
// could not rewrite reaches a device as it came from the server:
//
//   - a MIME body that cannot be rewritten (malformed, cut inside an
//     attachment when it is not marked truncated) is replaced by a message
//     whose only part is the removal notice (replacementMIME); a truncated
//     one is emptied, so that the device fetches the whole item;
//   - an attachment fetched by FileReference that cannot be rewritten is
//     replaced by the removal notice;
//   - a fetched mailbox item that cannot be decoded gets Fetch Status 14
//     (the item failed conversion) and no properties;
//   - elements this package does not model (kept by the WBXML binding and
//     written back as they came) are dropped when they carry attachment
//     content: a MIME body, an email:MIMEData, an itemoperations:Data;
//   - multipart ItemOperations parts that no rewritten element accounts for
//     are emptied.
//
// Each is counted in Result.Unprocessable and attachment-rewrite-failed.
// What cannot be decoded at all is the caller's to refuse.

var (
	tagBody            = wbxml.MustTag("AirSyncBase:Body")
	tagBodyType        = wbxml.MustTag("AirSyncBase:Type")
	tagMIMEData        = wbxml.MustTag("Email:MIMEData")
	tagMIMETruncated   = wbxml.MustTag("Email:MIMETruncated")
	tagMIMESize        = wbxml.MustTag("Email:MIMESize")
	tagItemOpsData     = wbxml.MustTag("ItemOperations:Data")
	tagApplicationData = wbxml.MustTag("AirSync:ApplicationData")
	tagConversationID  = wbxml.MustTag("Email2:ConversationId")
	tagConversationIdx = wbxml.MustTag("Email2:ConversationIndex")
)

// unprocessable counts n things that were not passed because they could
// not be rewritten.
func (r *Rewriter) unprocessable(res *Result, n int) {
	res.Unprocessable += n
	r.add(stats.AttachmentRewriteFailed, uint64(n))
}

// textBody reports an airsyncbase body type that holds the message text
// only (plain, HTML, RTF), never attachments; anything else (MIME, or a
// type the gateway does not know) is treated as MIME.
func textBody(typ int) bool {
	return typ == eas.BodyPlainText || typ == eas.BodyHTML || typ == eas.BodyRTF
}

// carrier reports an unmodelled element that holds attachment content,
// itself or below it: a non-text airsyncbase Body, an email:MIMEData, an
// itemoperations:Data.
func carrier(n *wbxml.Node) bool {
	switch n.Tag {
	case tagMIMEData, tagItemOpsData:
		return true
	case tagBody:
		t := n.Child(tagBodyType)
		return t == nil || !textBody(atoi(t.Text()))
	}
	for _, c := range n.Children {
		if carrier(c) {
			return true
		}
	}
	return false
}

// atoi is strconv.Atoi that answers -1 for anything not a number.
func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}

var (
	nodeSliceType = reflect.TypeOf([]*wbxml.Node(nil))
	nodePtrType   = reflect.TypeOf((*wbxml.Node)(nil))
	emailDataType = reflect.TypeOf(eas.EmailData{})
	fetchPropType = reflect.TypeOf(eas.FetchProperties{})
)

// dropHidden removes, from a decoded message (a pointer to an eas
// struct), every unmodelled element that carries attachment content, and
// counts them. The email:MIMEData of an EmailData is modelled here
// (rewriteEmail rewrites it) and the properties of a fetch are handled
// per fetch, so both are left alone.
func (r *Rewriter) dropHidden(res *Result, v any) {
	r.unprocessable(res, dropHiddenValue(reflect.ValueOf(v)))
}

func dropHiddenValue(v reflect.Value) int {
	n := 0
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			n += dropHiddenValue(v.Elem())
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct || v.Type().Elem().Kind() == reflect.Pointer {
			for i := 0; i < v.Len(); i++ {
				n += dropHiddenValue(v.Index(i))
			}
		}
	case reflect.Struct:
		if v.Type() == fetchPropType {
			return 0
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() || !f.CanSet() {
				continue
			}
			switch f.Type() {
			case nodeSliceType:
				nodes := f.Interface().([]*wbxml.Node)
				kept := nodes[:0:0]
				for _, c := range nodes {
					if c.Tag == tagMIMEData && v.Type() == emailDataType || !carrier(c) {
						kept = append(kept, c)
					} else {
						n++
					}
				}
				if len(kept) != len(nodes) {
					f.Set(reflect.ValueOf(kept))
				}
			case nodePtrType:
				if !f.IsNil() && carrier(f.Interface().(*wbxml.Node)) {
					f.SetZero()
					n++
				}
			default:
				n += dropHiddenValue(f)
			}
		}
	}
	return n
}

// dropCarriers removes carrier elements from a list of unmodelled nodes.
func (r *Rewriter) dropCarriers(res *Result, nodes []*wbxml.Node) []*wbxml.Node {
	kept := nodes[:0:0]
	for _, c := range nodes {
		if carrier(c) {
			r.unprocessable(res, 1)
			continue
		}
		kept = append(kept, c)
	}
	return kept
}

// replacementName is the name of the removal notice that replaces a whole
// message body.
const replacementName = "attachment" + RemovedSuffix

// replacementMIME is the MIME message a device gets in place of one that
// could not be rewritten: the original's address, subject and threading
// fields when its header can be read, and one attachment, the removal
// notice (ATT-05, ATT-06).
func (r *Rewriter) replacementMIME(orig io.Reader, lang string) []byte {
	var b bytes.Buffer
	hl := &headerLimit{r: orig, n: r.limits.MaxHeaderBytes, armed: true}
	if h, err := textproto.ReadHeader(bufio.NewReaderSize(hl, 4096)); err == nil {
		var keep textproto.Header
		for _, k := range []string{"From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-Id", "In-Reply-To", "References"} {
			if v := h.Get(k); v != "" && utf8.ValidString(v) {
				keep.Add(k, v)
			}
		}
		_ = textproto.WriteHeader(&b, keep) // a bytes.Buffer does not fail
		b.Truncate(b.Len() - 2)             // WriteHeader ends the header; more fields follow
	}
	const boundary = "gatehouse-removed-a1f0c2"
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n")
	b.WriteString("--" + boundary + "\r\nContent-Type: text/html; charset=utf-8; name=\"" + replacementName + "\"\r\n")
	b.WriteString("Content-Disposition: attachment; filename=\"" + replacementName + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	lw := &lineWriter{w: &b}
	enc := base64.NewEncoder(base64.StdEncoding, lw)
	_, _ = enc.Write(RemovedHTML(lang))
	_ = enc.Close()
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes()
}

// ScrubNUL replaces the NUL bytes of every text element under n by U+FFFD
// and reports whether it changed anything. An inline string cannot hold
// NUL, so the struct binding refuses such a text (a server may send it as
// opaque data, from a hostile header such as a Content-Type): scrubbed,
// the message decodes and is rewritten rather than refused whole. The
// opaque binary elements the binding models as bytes are left alone.
func ScrubNUL(n *wbxml.Node) bool {
	changed := false
	if n.Tag != tagConversationID && n.Tag != tagConversationIdx && bytes.IndexByte(n.Content, 0) >= 0 {
		n.Content = bytes.ReplaceAll(n.Content, []byte{0}, []byte("\uFFFD"))
		changed = true
	}
	for _, c := range n.Children {
		if ScrubNUL(c) {
			changed = true
		}
	}
	return changed
}
