package attachments

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// AttachmentInfo names an attachment outside MIME: a GetAttachment body,
// an ItemOperations Fetch of a FileReference.
type AttachmentInfo struct {
	Name        string // as the mail server knows it, "" if unknown
	ContentType string
}

// isMessage reports an attached email.
func (a AttachmentInfo) isMessage() bool {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(a.ContentType, ";", 2)[0]))
	return ct == "message/rfc822" || strings.HasSuffix(strings.ToLower(a.Name), ".eml")
}

// DisplayName is the name a device is shown for a top-level attachment
// under opt: what Sync's attachment list carries and what
// RewriteAttachment delivers, so that the two agree.
func (r *Rewriter) DisplayName(name string, opt Option) string {
	switch opt {
	case Remove:
		return name + RemovedSuffix
	case Encrypt:
		if IsEncryptedName(name) || r.policy.Excluded(name) {
			return name
		}
		if k, ok := r.keys.Current(); ok {
			return name + k.Extension()
		}
		return name + RemovedSuffix // no key: removed, fail closed
	}
	return name
}

// RewriteAttachment applies opt to one attachment's raw content (the body
// of GetAttachment, a part of a multipart ItemOperations response) and
// returns what the device gets. An attached email that the exclusion list
// lets through (.eml by default) is walked as a MIME message one level
// down (ATT-19). It counts attachments-fetched.
func (r *Rewriter) RewriteAttachment(dst io.Writer, src io.Reader, in AttachmentInfo, opt Option, lang string) (AttachmentInfo, Result, error) {
	var res Result
	r.add(stats.AttachmentsFetched, 1)
	name := in.Name
	if name == "" {
		name = "attachment"
	}
	w := &walk{r: r, opt: opt, lang: lang, res: &res}
	switch {
	case opt != Remove && opt != Encrypt:
		res.Untouched = true
		_, err := io.Copy(dst, src)
		return in, res, err
	case in.isSMIME():
		// S/MIME encrypted: untouched under every option (ATT-21).
		res.Untouched = true
		_, err := io.Copy(dst, src)
		return in, res, err
	case opt == Remove:
		out := AttachmentInfo{Name: name + RemovedSuffix, ContentType: "text/html; charset=utf-8"}
		return out, res, w.removeRaw(dst, src, name)
	case in.isMessage() && r.policy.Excluded(name) || in.isMessage() && in.Name == "":
		res.Embedded++
		r.add(stats.AttachmentsEmbedded, 1)
		sub, err := r.rewriteMIME(src, dst, opt, lang, 1)
		sub.Embedded += res.Embedded
		return in, sub, err
	case IsEncryptedName(name) || r.policy.Excluded(name):
		res.Excluded++
		_, err := io.Copy(dst, src)
		return in, res, err
	}
	key, ok := r.keys.Current()
	if !ok {
		res.EncryptFailed++
		r.add(stats.AttachmentEncryptFailures, 1)
		out := AttachmentInfo{Name: name + RemovedSuffix, ContentType: "text/html; charset=utf-8"}
		return out, res, w.removeRaw(dst, src, name)
	}
	n, err := encryptStream(dst, src, key, DefaultChunkLog2)
	if err != nil {
		r.add(stats.AttachmentEncryptFailures, 1)
		return in, res, fmt.Errorf("attachments: encrypting %q: %w", name, err)
	}
	res.Encrypted++
	res.Bytes = n
	r.add(stats.AttachmentsEncrypted, 1)
	r.add(stats.AttachmentsRenamed, 1)
	r.addSize(n)
	return AttachmentInfo{Name: name + key.Extension(), ContentType: "application/octet-stream"}, res, nil
}

func (w *walk) removeRaw(dst io.Writer, src io.Reader, name string) error {
	if _, err := dst.Write(RemovedHTML(w.lang)); err != nil {
		w.r.add(stats.AttachmentReplacedFailures, 1)
		return err
	}
	n, err := io.Copy(io.Discard, src)
	if err != nil {
		// The notice went out but the original could not be read (the
		// server stalled or reset): the replacement failed.
		w.r.add(stats.AttachmentReplacedFailures, 1)
		return fmt.Errorf("attachments: reading %q: %w", name, err)
	}
	w.res.Removed++
	w.res.Bytes += n
	w.r.add(stats.AttachmentsReplaced, 1)
	w.r.add(stats.AttachmentsRenamed, 1)
	w.r.addSize(n)
	return nil
}

// RewriteInline rewrites the base64 Data of an inline ItemOperations Fetch.
func (r *Rewriter) RewriteInline(data string, in AttachmentInfo, opt Option, lang string) (string, AttachmentInfo, Result, error) {
	s, out, res, _, err := r.rewriteInline(data, in, opt, lang)
	return s, out, res, err
}

// rewriteInline also returns the decoded length of the result.
func (r *Rewriter) rewriteInline(data string, in AttachmentInfo, opt Option, lang string) (string, AttachmentInfo, Result, int64, error) {
	var sb strings.Builder
	enc := base64.NewEncoder(base64.StdEncoding, &sb)
	cw := &countingWriter{w: enc}
	src := base64.NewDecoder(base64.RawStdEncoding, &b64Filter{r: strings.NewReader(data)})
	out, res, err := r.RewriteAttachment(cw, src, in, opt, lang)
	if err == nil {
		err = enc.Close()
	}
	return sb.String(), out, res, cw.n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ErrRangeFetch is returned for an ItemOperations Fetch of a byte range of
// an attachment the option changes: the range of the original means
// nothing in the rewritten file. The handler should answer the device with
// an error status rather than deliver the original bytes.
var ErrRangeFetch = errors.New("attachments: ranged fetch of a controlled attachment")

// ItemOperations Fetch status for a mailbox item the gateway could not
// decode: "the item failed conversion" (MS-ASCMD 2.2.3.177.7).
const fetchStatusConversionFailed = 14

// RewriteItemOperations applies opt to every Fetch result of an
// ItemOperations response, in place: attachments (by FileReference) inline
// (Properties.Data) or in the parts of a multipart response
// (Properties.Part, parts[0] being the WBXML), and mailbox items with a
// MIME body or an attachment list. nameOf gives an attachment's original
// name from its FileReference (the names came with the Sync that listed
// it); nil or "" treat the attachment as not excluded. It returns the
// parts to send (the rewritten ones replaced). The caller re-encodes resp
// and rebuilds the multipart body with eas.BuildMultipart.
//
// It fails closed: what cannot be rewritten is replaced (see
// failclosed.go), and parts that no rewritten element accounts for are
// emptied. Document library fetches (LinkId) are not mail and pass.
func (r *Rewriter) RewriteItemOperations(resp *eas.ItemOperationsResponse, parts [][]byte, nameOf func(fileRef string) string, opt Option, lang string) ([][]byte, Result, error) {
	var total Result
	if resp == nil || (opt != Remove && opt != Encrypt) {
		total.Untouched = true
		return parts, total, nil
	}
	parts = append([][]byte(nil), parts...)
	used := make([]bool, len(parts))
	r.dropHidden(&total, resp)
	if resp.Response != nil {
		for i := range resp.Response.Fetch {
			f := &resp.Response.Fetch[i]
			if f.Properties == nil {
				continue
			}
			var (
				res Result
				err error
			)
			switch {
			case f.FileReference != "":
				res, err = r.rewriteFetchedAttachment(f.FileReference, f.Properties, parts, used, nameOf, opt, lang)
			case f.LinkId != "":
				if p := f.Properties.Part; p > 0 && p < len(parts) {
					used[p] = true
				}
			default:
				res = r.rewriteFetchedItem(f, parts, used, opt, lang)
			}
			if err != nil {
				return parts, total, err
			}
			total.add(res)
		}
	}
	for i := 1; i < len(parts); i++ {
		if !used[i] && len(parts[i]) > 0 {
			parts[i] = nil
			r.unprocessable(&total, 1)
		}
	}
	return parts, total, nil
}

// rewriteFetchedAttachment handles an attachment fetched by FileReference.
func (r *Rewriter) rewriteFetchedAttachment(ref string, p *eas.FetchProperties, parts [][]byte, used []bool, nameOf func(string) string, opt Option, lang string) (Result, error) {
	var res Result
	p.Unknown = r.dropCarriers(&res, p.Unknown)
	if p.Range != "" {
		return res, ErrRangeFetch
	}
	in := AttachmentInfo{ContentType: p.ContentType}
	if nameOf != nil {
		in.Name = nameOf(ref)
	}
	var (
		out AttachmentInfo
		sub Result
		err error
	)
	switch {
	case p.Data != nil:
		var (
			d string
			n int64
		)
		d, out, sub, n, err = r.rewriteInline(*p.Data, in, opt, lang)
		if err != nil {
			// Undecodable base64, or encryption failed: the notice instead.
			notice := RemovedHTML(lang)
			d, n, out = base64.StdEncoding.EncodeToString(notice), int64(len(notice)), removedInfo(in.Name)
			sub = Result{}
			r.unprocessable(&sub, 1)
		}
		p.Data = &d
		if p.Total != nil {
			t := int(n)
			p.Total = &t
		}
	case p.Part > 0 && p.Part < len(parts):
		used[p.Part] = true
		var buf bytes.Buffer
		out, sub, err = r.RewriteAttachment(&buf, bytes.NewReader(parts[p.Part]), in, opt, lang)
		if err != nil {
			buf.Reset()
			buf.Write(RemovedHTML(lang))
			out, sub = removedInfo(in.Name), Result{}
			r.unprocessable(&sub, 1)
		}
		parts[p.Part] = buf.Bytes()
		if p.Total != nil {
			n := buf.Len()
			p.Total = &n
		}
	default:
		return res, nil // no content: nothing to rewrite
	}
	if p.ContentType != "" {
		p.ContentType = out.ContentType
	}
	res.add(sub)
	return res, nil
}

// removedInfo describes the removal notice that replaces an attachment.
func removedInfo(name string) AttachmentInfo {
	if name == "" {
		name = "attachment"
	}
	return AttachmentInfo{Name: name + RemovedSuffix, ContentType: "text/html; charset=utf-8"}
}

// rewriteFetchedItem handles a mailbox item fetched by ItemOperations.
func (r *Rewriter) rewriteFetchedItem(f *eas.FetchResponse, parts [][]byte, used []bool, opt Option, lang string) Result {
	var res Result
	p := f.Properties
	if p.Data != nil {
		// Attachment content without the FileReference that says whose:
		// it cannot be judged, so it is not passed.
		p.Data = nil
		r.unprocessable(&res, 1)
	}
	e, err := p.Email()
	if err != nil {
		f.Status, f.Properties = fetchStatusConversionFailed, nil
		r.unprocessable(&res, 1)
		return res
	}
	r.dropHidden(&res, e)
	if b := e.Body; b != nil && b.Part > 0 && b.Part < len(parts) {
		used[b.Part] = true
		if !textBody(b.Type) {
			var buf bytes.Buffer
			sub, err := r.RewriteMIME(bytes.NewReader(parts[b.Part]), &buf, opt, lang)
			if err != nil {
				buf.Reset()
				buf.Write(r.replacementMIME(bytes.NewReader(parts[b.Part]), lang))
				sub = Result{}
				r.unprocessable(&sub, 1)
			}
			parts[b.Part] = buf.Bytes()
			b.EstimatedDataSize = uint32(min(buf.Len(), 1<<32-1))
			res.add(sub)
		}
	}
	res.add(r.rewriteEmail(e, opt, lang))
	n, err := wbxml.StructToNode(e)
	if err != nil {
		f.Status, f.Properties = fetchStatusConversionFailed, nil
		r.unprocessable(&res, 1)
		return res
	}
	p.Unknown = n.Children
	return res
}

// RewriteSync applies opt to every item in a Sync response, in place: MIME
// bodies (MIMESupport, airsyncbase Body Type 4, and the email:MIMEData of
// protocol 2.5) are rewritten, attachment lists of other bodies get the
// names the device will be served (DisplayName). A truncated MIME body
// that cannot be rewritten (cut inside an attachment) loses its Data and
// stays Truncated, so the device fetches the whole item through
// ItemOperations, which is rewritten in full; one that is not truncated is
// replaced by the removal notice. Every list is walked (Add, Change,
// Delete, SoftDelete, Fetch, and the Responses), and unmodelled elements
// that carry attachments are dropped (fail closed).
func (r *Rewriter) RewriteSync(resp *eas.SyncResponse, opt Option, lang string) (Result, error) {
	var total Result
	if resp == nil || (opt != Remove && opt != Encrypt) {
		total.Untouched = true
		return total, nil
	}
	r.dropHidden(&total, resp)
	for ci := range resp.Collections {
		c := &resp.Collections[ci]
		var lists [][]eas.SyncItem
		if c.Commands != nil {
			lists = append(lists, c.Commands.Add, c.Commands.Change, c.Commands.Delete, c.Commands.SoftDelete, c.Commands.Fetch)
		}
		if c.Responses != nil {
			lists = append(lists, c.Responses.Add, c.Responses.Change, c.Responses.Fetch)
		}
		for _, items := range lists {
			for i := range items {
				if items[i].ApplicationData != nil {
					total.add(r.rewriteEmail(items[i].ApplicationData, opt, lang))
				}
			}
		}
	}
	return total, nil
}

// rewriteEmail applies opt to one item: its attachment list, its
// airsyncbase MIME body and its email:MIMEData. It never fails: what it
// cannot rewrite it replaces.
func (r *Rewriter) rewriteEmail(e *eas.EmailData, opt Option, lang string) Result {
	var res Result
	smime := IsSMIMEEncryptedClass(e.MessageClass)
	for i := range e.Attachments {
		a := &e.Attachments[i]
		if smime && strings.HasSuffix(strings.ToLower(a.DisplayName), ".p7m") {
			// The encrypted content of S/MIME mail (ATT-21): its fetch
			// passes untouched, so its name stays.
			continue
		}
		name := r.DisplayName(a.DisplayName, opt)
		switch {
		case name == a.DisplayName:
		case strings.HasSuffix(name, RemovedSuffix):
			a.EstimatedDataSize = uint32(len(RemovedHTML(lang)))
		default:
			if k, ok := r.keys.Current(); ok {
				a.EstimatedDataSize = uint32(min(EncryptedSize(int64(a.EstimatedDataSize), k), 1<<32-1))
			}
		}
		a.DisplayName = name
	}
	if b := e.Body; b != nil && b.Data != nil && !textBody(b.Type) {
		truncated := b.Truncated != nil && *b.Truncated
		out, sub := r.rewriteMIMEText(*b.Data, truncated, opt, lang)
		b.Data = &out
		if !truncated {
			b.EstimatedDataSize = uint32(min(len(out), 1<<32-1))
		}
		res.add(sub)
	}
	for _, n := range e.Unknown {
		if n.Tag != tagMIMEData {
			continue
		}
		truncated := false
		if t := childOf(e.Unknown, tagMIMETruncated); t != nil {
			truncated = strings.TrimSpace(t.Text()) == "1"
		}
		out, sub := r.rewriteMIMEText(string(n.Content), truncated, opt, lang)
		n.Content, n.Opaque = []byte(out), true
		if s := childOf(e.Unknown, tagMIMESize); s != nil && !truncated {
			s.Content = []byte(strconv.Itoa(len(out)))
		}
		res.add(sub)
	}
	return res
}

// rewriteMIMEText rewrites a MIME body held as text. One that cannot be
// rewritten is emptied when truncated (the device fetches it whole), and
// replaced by the removal notice otherwise.
func (r *Rewriter) rewriteMIMEText(data string, truncated bool, opt Option, lang string) (string, Result) {
	var sb strings.Builder
	res, err := r.RewriteMIME(strings.NewReader(data), &sb, opt, lang)
	if err == nil {
		return sb.String(), res
	}
	res = Result{}
	if truncated {
		// Usually cut inside an attachment by the truncation the device
		// asked for: not a failure, the whole item comes by ItemOperations.
		return "", res
	}
	r.unprocessable(&res, 1)
	return string(r.replacementMIME(strings.NewReader(data), lang)), res
}

func childOf(nodes []*wbxml.Node, t wbxml.Tag) *wbxml.Node {
	for _, n := range nodes {
		if n.Tag == t {
			return n
		}
	}
	return nil
}

func (t *Result) add(o Result) {
	t.Encrypted += o.Encrypted
	t.Removed += o.Removed
	t.Excluded += o.Excluded
	t.Embedded += o.Embedded
	t.Decrypted += o.Decrypted
	t.Undecryptable += o.Undecryptable
	t.EncryptFailed += o.EncryptFailed
	t.Unprocessable += o.Unprocessable
	t.Bytes += o.Bytes
	t.SignatureBroken = t.SignatureBroken || o.SignatureBroken
}
