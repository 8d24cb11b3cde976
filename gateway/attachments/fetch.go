package attachments

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
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

// RewriteItemOperations applies opt to every Fetch result of an
// ItemOperations response, in place: attachments (by FileReference) inline
// (Properties.Data) or in the parts of a multipart response
// (Properties.Part, parts[0] being the WBXML), and mailbox items with a
// MIME body or an attachment list. nameOf gives an attachment's original
// name from its FileReference (the names came with the Sync that listed
// it); nil or "" treat the attachment as not excluded. It returns the
// parts to send (the rewritten ones replaced). The caller re-encodes resp
// and rebuilds the multipart body with eas.BuildMultipart.
func (r *Rewriter) RewriteItemOperations(resp *eas.ItemOperationsResponse, parts [][]byte, nameOf func(fileRef string) string, opt Option, lang string) ([][]byte, Result, error) {
	var total Result
	if resp == nil || resp.Response == nil || (opt != Remove && opt != Encrypt) {
		total.Untouched = true
		return parts, total, nil
	}
	parts = append([][]byte(nil), parts...)
	for i := range resp.Response.Fetch {
		f := &resp.Response.Fetch[i]
		p := f.Properties
		if p == nil {
			continue
		}
		var (
			res Result
			err error
		)
		if f.FileReference != "" {
			if p.Range != "" {
				return parts, total, ErrRangeFetch
			}
			in := AttachmentInfo{ContentType: p.ContentType}
			if nameOf != nil {
				in.Name = nameOf(f.FileReference)
			}
			var out AttachmentInfo
			switch {
			case p.Data != nil:
				var (
					d string
					n int64
				)
				d, out, res, n, err = r.rewriteInline(*p.Data, in, opt, lang)
				p.Data = &d
				if err == nil && p.Total != nil {
					t := int(n)
					p.Total = &t
				}
			case p.Part > 0 && p.Part < len(parts):
				var buf bytes.Buffer
				out, res, err = r.RewriteAttachment(&buf, bytes.NewReader(parts[p.Part]), in, opt, lang)
				parts[p.Part] = buf.Bytes()
				if err == nil && p.Total != nil {
					n := buf.Len()
					p.Total = &n
				}
			default:
				continue
			}
			if err == nil && p.ContentType != "" {
				p.ContentType = out.ContentType
			}
		} else {
			res, err = r.rewriteFetchedItem(p, parts, opt, lang)
		}
		if err != nil {
			return parts, total, err
		}
		total.add(res)
	}
	return parts, total, nil
}

// rewriteFetchedItem handles a mailbox item fetched by ItemOperations.
func (r *Rewriter) rewriteFetchedItem(p *eas.FetchProperties, parts [][]byte, opt Option, lang string) (Result, error) {
	e, err := p.Email()
	if err != nil {
		return Result{}, err
	}
	var res Result
	if e.Body != nil && e.Body.Type == eas.BodyMIME && e.Body.Part > 0 && e.Body.Part < len(parts) {
		var buf bytes.Buffer
		res, err = r.RewriteMIME(bytes.NewReader(parts[e.Body.Part]), &buf, opt, lang)
		if err != nil {
			return res, err
		}
		parts[e.Body.Part] = buf.Bytes()
		e.Body.EstimatedDataSize = uint32(min(buf.Len(), 1<<32-1))
	} else {
		res, err = r.rewriteEmail(e, opt, lang)
		if err != nil {
			return res, err
		}
	}
	n, err := wbxml.StructToNode(e)
	if err != nil {
		return res, err
	}
	p.Unknown = n.Children
	return res, nil
}

// RewriteSync applies opt to every email in a Sync response, in place: MIME
// bodies (MIMESupport, airsyncbase Body Type 4) are rewritten, attachment
// lists of other bodies get the names the device will be served
// (DisplayName). A truncated MIME body that cannot be rewritten (cut inside
// an attachment) loses its Data and stays Truncated, so the device fetches
// the whole item through ItemOperations, which is rewritten in full.
func (r *Rewriter) RewriteSync(resp *eas.SyncResponse, opt Option, lang string) (Result, error) {
	var total Result
	if resp == nil || (opt != Remove && opt != Encrypt) {
		total.Untouched = true
		return total, nil
	}
	for ci := range resp.Collections {
		c := &resp.Collections[ci]
		var lists [][]eas.SyncItem
		if c.Commands != nil {
			lists = append(lists, c.Commands.Add, c.Commands.Change, c.Commands.Fetch)
		}
		if c.Responses != nil {
			lists = append(lists, c.Responses.Fetch)
		}
		for _, items := range lists {
			for i := range items {
				if items[i].ApplicationData == nil {
					continue
				}
				res, err := r.rewriteEmail(items[i].ApplicationData, opt, lang)
				if err != nil {
					return total, err
				}
				total.add(res)
			}
		}
	}
	return total, nil
}

func (r *Rewriter) rewriteEmail(e *eas.EmailData, opt Option, lang string) (Result, error) {
	var res Result
	for i := range e.Attachments {
		a := &e.Attachments[i]
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
	b := e.Body
	if b == nil || b.Type != eas.BodyMIME || b.Data == nil {
		return res, nil
	}
	var sb strings.Builder
	res, err := r.RewriteMIME(strings.NewReader(*b.Data), &sb, opt, lang)
	if err != nil {
		if b.Truncated != nil && *b.Truncated {
			empty := ""
			b.Data = &empty
			return Result{}, nil
		}
		return res, err
	}
	s := sb.String()
	b.Data = &s
	if b.Truncated == nil || !*b.Truncated {
		b.EstimatedDataSize = uint32(min(len(s), 1<<32-1))
	}
	return res, nil
}

func (t *Result) add(o Result) {
	t.Encrypted += o.Encrypted
	t.Removed += o.Removed
	t.Excluded += o.Excluded
	t.Embedded += o.Embedded
	t.Decrypted += o.Decrypted
	t.Undecryptable += o.Undecryptable
	t.EncryptFailed += o.EncryptFailed
	t.Bytes += o.Bytes
	t.SignatureBroken = t.SignatureBroken || o.SignatureBroken
}
