package attachments

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// ForceLevel is the embedding level from which every attachment is
// encrypted or removed, exclusion list ignored (ATT-19): levels 1 to 4 (an
// email inside the email, and so on) get the option as configured, level 5
// and deeper get it unconditionally.
const ForceLevel = 5

// Limits bound the work a rewrite does on hostile input.
type Limits struct {
	// MaxNesting bounds multipart and message nesting together. Below it an
	// entity is treated as one opaque attachment (encrypted or removed as a
	// whole under Encrypt and Remove), so the walk's stack stays bounded and
	// nothing escapes the option. 0 means DefaultLimits.MaxNesting.
	MaxNesting int
	// MaxHeaderBytes bounds the top-level header. 0 means DefaultLimits.
	MaxHeaderBytes int64
}

// DefaultLimits are generous for real mail.
var DefaultLimits = Limits{MaxNesting: 32, MaxHeaderBytes: 1 << 20}

// Rewriter applies attachment control to mail. It is safe for concurrent
// use; WithStats returns a copy that counts into one device's statistics.
type Rewriter struct {
	policy *Policy
	keys   *Keyring
	stats  *stats.Device
	limits Limits
}

// NewRewriter returns a Rewriter for a policy and a keyring (which may be
// nil when no option encrypts).
func NewRewriter(p *Policy, keys *Keyring) *Rewriter {
	return &Rewriter{policy: p, keys: keys, limits: DefaultLimits}
}

// WithStats returns a copy of r that increments d's counters (nil: none).
func (r *Rewriter) WithStats(d *stats.Device) *Rewriter {
	c := *r
	c.stats = d
	return &c
}

// WithLimits returns a copy of r with other limits.
func (r *Rewriter) WithLimits(l Limits) *Rewriter {
	c := *r
	if l.MaxNesting <= 0 {
		l.MaxNesting = DefaultLimits.MaxNesting
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	c.limits = l
	return &c
}

// Result tells what a rewrite did.
type Result struct {
	Encrypted     int // attachments encrypted
	Removed       int // attachments replaced by .removed.html
	Excluded      int // attachments delivered as is by the exclusion list
	Embedded      int // embedded messages (message/rfc822) walked
	Decrypted     int // outbound attachments decrypted
	Undecryptable int // outbound attachments replaced by an explanation
	EncryptFailed int // attachments removed because encryption was impossible
	// Unprocessable counts what could not be rewritten and was replaced by
	// the removal notice, emptied or dropped instead of passed (bodies,
	// attachments, unmodelled elements that carry attachments; fail closed).
	Unprocessable int
	Bytes         int64 // attachment bytes processed (decoded)
	// Untouched is set when the message passed byte for byte: an option
	// that does not change attachments, S/MIME encrypted mail, or outbound
	// mail for work recipients only.
	Untouched bool
	// SignatureBroken is set when an S/MIME signed message was modified
	// (ATT-21).
	SignatureBroken bool
}

func (r *Rewriter) add(c stats.Counter, n uint64) {
	if r.stats != nil && n > 0 {
		r.stats.Add(c, n)
	}
}

// addSize counts attachment bytes in attachments-size-bytes and whole MiB
// in attachments-size-MB.
func (r *Rewriter) addSize(n int64) {
	if r.stats == nil || n <= 0 {
		return
	}
	before := r.stats.Get(stats.AttachmentsSizeBytes)
	r.stats.Add(stats.AttachmentsSizeBytes, uint64(n))
	r.add(stats.AttachmentsSizeMB, (before+uint64(n))>>20-before>>20)
}

// RewriteMIME copies the MIME message src to dst applying opt to every
// attachment, at every embedding level. lang is the device language for
// the Remove text ("" for United States English; see Language). Memory is
// bounded whatever the size of the attachments: bodies stream through.
//
// On error dst holds a partial message that must not be delivered.
func (r *Rewriter) RewriteMIME(src io.Reader, dst io.Writer, opt Option, lang string) (Result, error) {
	return r.rewriteMIME(src, dst, opt, lang, 0)
}

func (r *Rewriter) rewriteMIME(src io.Reader, dst io.Writer, opt Option, lang string, level int) (Result, error) {
	var res Result
	if opt != Remove && opt != Encrypt {
		res.Untouched = true
		_, err := io.Copy(dst, src)
		return res, err
	}
	w := &walk{r: r, opt: opt, lang: lang, res: &res}
	err := w.message(src, func(h textproto.Header) (io.Writer, error) {
		return dst, textproto.WriteHeader(dst, h)
	}, level, 0)
	return res, err
}

// emitFunc writes an entity's header and returns where its body goes.
type emitFunc func(textproto.Header) (io.Writer, error)

// walk is one rewrite.
type walk struct {
	r    *Rewriter
	opt  Option
	lang string
	res  *Result
	// outbound rewrites decrypt instead of encrypting.
	outbound bool
	forward  bool
}

// headerLimit fails reads once more than n bytes were read while armed.
type headerLimit struct {
	r     io.Reader
	n     int64
	armed bool
}

func (h *headerLimit) Read(p []byte) (int, error) {
	if h.armed && h.n <= 0 {
		return 0, errors.New("attachments: MIME header too large")
	}
	if h.armed && int64(len(p)) > h.n {
		p = p[:h.n]
	}
	n, err := h.r.Read(p)
	h.n -= int64(n)
	return n, err
}

// message reads a header from src and walks the entity it starts.
func (w *walk) message(src io.Reader, emit emitFunc, level, nesting int) error {
	hl := &headerLimit{r: src, n: w.r.limits.MaxHeaderBytes, armed: true}
	br := bufio.NewReaderSize(hl, 4096)
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return fmt.Errorf("attachments: MIME header: %w", err)
	}
	hl.armed = false
	return w.entity(h, br, emit, level, nesting)
}

// contentType parses Content-Type, defaulting to text/plain (RFC 2045).
func contentType(h *textproto.Header) (string, map[string]string) {
	mt, params, _ := parseContentType(h.Get("Content-Type"))
	return mt, params
}

// parseContentType parses a Content-Type value; "" is text/plain. An
// unparsable value keeps what precedes the first ';' and reports !ok.
func parseContentType(v string) (mt string, params map[string]string, ok bool) {
	if v == "" {
		return "text/plain", map[string]string{}, true
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		return mt, map[string]string{}, false
	}
	return mt, params, true
}

// ambiguous reports a header that mail readers may read differently from
// this package: a repeated Content-Type, Content-Disposition or
// Content-Transfer-Encoding (which one wins differs between parsers), or
// an unparsable Content-Type or Content-Disposition, whose parameters
// (a file name) a lenient reader may still find. Such an entity is never
// taken for a message body or S/MIME: it is controlled as one opaque
// attachment (fail closed).
func ambiguous(h *textproto.Header) bool {
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Transfer-Encoding"} {
		if len(h.Values(k)) > 1 {
			return true
		}
	}
	if _, _, ok := parseContentType(h.Get("Content-Type")); !ok {
		return true
	}
	if v := h.Get("Content-Disposition"); v != "" {
		if _, _, err := mime.ParseMediaType(v); err != nil {
			return true
		}
	}
	return false
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	return nil, fmt.Errorf("charset %s not supported", charset)
}}

// fileName is the attachment's file name from Content-Disposition or the
// Content-Type name parameter, RFC 2047 and 2231 decoded; "" if none.
func fileName(h *textproto.Header, ctParams map[string]string) (name, disposition string) {
	if v := h.Get("Content-Disposition"); v != "" {
		d, params, err := mime.ParseMediaType(v)
		if err == nil {
			disposition = d
			name = params["filename"]
		} else {
			disposition = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		}
	}
	if name == "" {
		name = ctParams["name"]
	}
	if dec, err := wordDecoder.DecodeHeader(name); err == nil {
		name = dec
	}
	return strings.TrimSpace(name), disposition
}

func (w *walk) entity(h textproto.Header, body io.Reader, emit emitFunc, level, nesting int) error {
	mt, params := contentType(&h)
	name, disp := fileName(&h, params)
	switch {
	case !w.outbound && ambiguous(&h):
		return w.attachment(h, body, emit, "application/octet-stream", map[string]string{}, ForceLevel)
	case isSMIMEEncrypted(mt, params, name):
		if level == 0 && nesting == 0 {
			w.res.Untouched = true
		}
		return passthrough(h, body, emit)
	case nesting >= w.r.limits.MaxNesting:
		if w.outbound {
			return passthrough(h, body, emit)
		}
		return w.attachment(h, body, emit, mt, params, ForceLevel)
	case strings.HasPrefix(mt, "multipart/"):
		return w.multipart(h, body, emit, mt, params, level, nesting)
	case mt == "message/rfc822" || mt == "message/global":
		return w.embedded(h, body, emit, level, nesting)
	}
	if !isAttachment(mt, name, disp) {
		return passthrough(h, body, emit)
	}
	if w.outbound {
		return w.outboundAttachment(h, body, emit, name)
	}
	return w.attachment(h, body, emit, mt, params, level)
}

// isAttachment separates attachments from message bodies: anything with a
// file name or an attachment disposition, and every non-text part (inline
// images included). Text parts without a name are the message's body.
func isAttachment(mt, name, disposition string) bool {
	if name != "" || disposition == "attachment" {
		return true
	}
	return !strings.HasPrefix(mt, "text/")
}

func passthrough(h textproto.Header, body io.Reader, emit emitFunc) error {
	out, err := emit(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, body)
	return err
}

func (w *walk) multipart(h textproto.Header, body io.Reader, emit emitFunc, mt string, params map[string]string, level, nesting int) error {
	boundary := params["boundary"]
	if boundary == "" {
		// Not parsable as multipart: one opaque attachment.
		if w.outbound {
			return passthrough(h, body, emit)
		}
		return w.attachment(h, body, emit, mt, params, level)
	}
	signed, digest := mt == "multipart/signed", mt == "multipart/digest"
	outBoundary := boundary
	if err := textproto.NewMultipartWriter(io.Discard).SetBoundary(boundary); err != nil {
		// A boundary the writer refuses (too long, odd characters) is
		// replaced by a fresh one in the output.
		fresh := textproto.NewMultipartWriter(io.Discard).Boundary()
		np := make(map[string]string, len(params))
		for k, v := range params {
			np[k] = v
		}
		np["boundary"] = fresh
		h = h.Copy()
		h.Set("Content-Type", mime.FormatMediaType(mt, np))
		outBoundary = fresh
	}
	out, err := emit(h)
	if err != nil {
		return err
	}
	mw := textproto.NewMultipartWriter(out)
	if err := mw.SetBoundary(outBoundary); err != nil {
		return err
	}
	before := *w.res
	mr := textproto.NewMultipartReader(body, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("attachments: multipart: %w", err)
		}
		if digest && p.Header.Get("Content-Type") == "" {
			// RFC 2046 5.1.5: a digest's parts default to message/rfc822,
			// as a device reads them; walked as text they would escape.
			p.Header.Set("Content-Type", "message/rfc822")
		}
		err = w.entity(p.Header, p, mw.CreatePart, level, nesting+1)
		if err != nil {
			return err
		}
	}
	if signed && *w.res != before {
		w.res.SignatureBroken = true
	}
	return mw.Close()
}

// embedded walks a message/rfc822 part one level deeper (ATT-19).
func (w *walk) embedded(h textproto.Header, body io.Reader, emit emitFunc, level, nesting int) error {
	cte := h.Get("Content-Transfer-Encoding")
	out, err := emit(h)
	if err != nil {
		return err
	}
	if !w.outbound {
		w.res.Embedded++
		w.r.add(stats.AttachmentsEmbedded, 1)
	}
	var enc *base64Body
	if strings.EqualFold(strings.TrimSpace(cte), "base64") {
		enc = newBase64Body(out)
		out = enc
	}
	// quoted-printable is not allowed for message/rfc822 (RFC 2046 5.2.1)
	// and is walked as it is.
	if enc != nil {
		body = transferDecoder(cte, body)
	}
	err = w.message(body, func(ih textproto.Header) (io.Writer, error) {
		return out, textproto.WriteHeader(out, ih)
	}, level+1, nesting+1)
	if err != nil {
		return err
	}
	if enc != nil {
		return enc.Close()
	}
	return nil
}

// attachmentHeader copies h without the fields that describe the content,
// then describes the new content (text is always UTF-8).
func attachmentHeader(h textproto.Header, contentType, name string) textproto.Header {
	out := h.Copy()
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Transfer-Encoding", "Content-Length", "Content-Md5"} {
		out.Del(k)
	}
	contentType, _, _ = strings.Cut(contentType, ";")
	contentType = strings.TrimSpace(contentType)
	params := map[string]string{"name": name}
	if strings.HasPrefix(contentType, "text/") {
		params["charset"] = "utf-8"
	}
	out.Set("Content-Type", mime.FormatMediaType(contentType, params))
	out.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	out.Set("Content-Transfer-Encoding", "base64")
	return out
}

// IsEncryptedName reports a name ending in .attachctrl or .secure.
func IsEncryptedName(name string) bool {
	l := strings.ToLower(name)
	return strings.HasSuffix(l, ExtAttachCtrl) || strings.HasSuffix(l, ExtSecure)
}

// disguisedMessage reports an .eml file that is not typed as a message: it
// cannot be walked like message/rfc822, so the exclusion list (which has eml
// by default) does not let it through unexamined; it is encrypted whole.
func disguisedMessage(mt, name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".eml") && !strings.HasPrefix(mt, "message/")
}

// attachment applies the inbound option to one attachment.
func (w *walk) attachment(h textproto.Header, body io.Reader, emit emitFunc, mt string, params map[string]string, level int) error {
	name, _ := fileName(&h, params)
	if name == "" {
		name = "attachment"
	}
	src := &countingReader{r: transferDecoder(h.Get("Content-Transfer-Encoding"), body)}
	switch {
	case w.opt == Remove:
		return w.remove(h, src, emit, name)
	case IsEncryptedName(name):
		// Already protected (Docs@Work mail from a colleague, ATT-15):
		// delivered as is, never encrypted twice.
		w.res.Excluded++
		return passthrough(h, body, emit)
	case level < ForceLevel && w.r.policy.Excluded(name) && !disguisedMessage(mt, name):
		w.res.Excluded++ // ATT-13: the exclusion list only matters here
		return passthrough(h, body, emit)
	}
	key, ok := w.r.keys.Current()
	if !ok {
		// Fail closed: without a key the attachment cannot be delivered.
		w.res.EncryptFailed++
		w.r.add(stats.AttachmentEncryptFailures, 1)
		return w.remove(h, src, emit, name)
	}
	newName := name + key.Extension()
	out, err := emit(attachmentHeader(h, "application/octet-stream", newName))
	if err != nil {
		return err
	}
	enc := newBase64Body(out)
	n, err := encryptStream(enc, src, key, DefaultChunkLog2)
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		w.r.add(stats.AttachmentEncryptFailures, 1)
		return fmt.Errorf("attachments: encrypting %q: %w", name, err)
	}
	w.res.Encrypted++
	w.res.Bytes += n
	w.r.add(stats.AttachmentsEncrypted, 1)
	w.r.add(stats.AttachmentsRenamed, 1)
	w.r.addSize(n)
	return nil
}

// remove replaces an attachment by <name>.removed.html (ATT-05, ATT-06).
func (w *walk) remove(h textproto.Header, src *countingReader, emit emitFunc, name string) error {
	out, err := emit(attachmentHeader(h, "text/html", name+RemovedSuffix))
	if err == nil {
		enc := newBase64Body(out)
		if _, err = enc.Write(RemovedHTML(w.lang)); err == nil {
			err = enc.Close()
		}
	}
	if err != nil {
		w.r.add(stats.AttachmentReplacedFailures, 1)
		return err
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		w.r.add(stats.AttachmentReplacedFailures, 1) // the notice went out, the original could not be read
		return fmt.Errorf("attachments: reading %q: %w", name, err)
	}
	w.res.Removed++
	w.res.Bytes += src.n
	w.r.add(stats.AttachmentsReplaced, 1)
	w.r.add(stats.AttachmentsRenamed, 1)
	w.r.addSize(src.n)
	return nil
}
