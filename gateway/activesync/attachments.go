package activesync

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Attachment control (ATT): where attachments reach the device (Sync
// MIME bodies, ItemOperations inline and multipart, GetAttachment) the
// response is rewritten for the device's option; where they leave it
// (SendMail, SmartForward, SmartReply) encrypted attachments are
// decrypted for recipients outside the work domains. A rewrite that fails
// never lets the original through: the device gets an error instead.

// AttachmentControl is the UEM's attachment control in force.
type AttachmentControl struct {
	Policy   *attachments.Policy
	Rewriter *attachments.Rewriter
}

// SetAttachmentControl switches attachment control; nil turns it off
// (everything delivered as is, the default).
func (h *Handler) SetAttachmentControl(ac *AttachmentControl) { h.attach.Store(ac) }

// maxRewriteBody bounds the bodies read whole for rewriting (Sync and
// ItemOperations responses, outbound mail); GetAttachment streams.
const maxRewriteBody = 64 << 20

// attachOption returns the control in force and the device's option, or
// nil when its attachments pass untouched.
func (h *Handler) attachOption(x *exchange, outbound bool) (*AttachmentControl, attachments.Option, string) {
	ac := h.attach.Load()
	if ac == nil || !ac.Policy.Enabled() {
		return nil, 0, ""
	}
	q := x.info.Query
	info := h.infos.lookup(x.key)
	cls := attachments.Classify(q.DeviceType, x.info.UserAgent, info)
	opt := ac.Policy.OptionFor(cls)
	lang := attachments.Language(q.DeviceType, x.info.UserAgent, info)
	if lang == "" && attachments.IsIOS(q.DeviceType, x.info.UserAgent, info) {
		lang = x.info.AcceptLanguage // no OSLanguage yet: the language the device asks for
	}
	if outbound && opt != attachments.Encrypt {
		return nil, 0, "" // only the encryption option has anything to undo (ATT-17)
	}
	if !outbound && opt != attachments.Encrypt && opt != attachments.Remove {
		return nil, 0, ""
	}
	return ac, opt, lang
}

// rewriteOutbound decrypts the attachments of mail the device sends, when
// it goes to anyone outside the work domains (ATT-14, ATT-15).
func (h *Handler) rewriteOutbound(r *http.Request, x *exchange) error {
	ac, opt, _ := h.attachOption(x, true)
	cmd := x.info.Query.Cmd
	if ac == nil || (cmd != eas.CmdSendMail && cmd != eas.CmdSmartForward && cmd != eas.CmdSmartReply) {
		return nil
	}
	body, err := readBoundedBody(r, maxRewriteBody)
	if err != nil {
		return err
	}
	rw := ac.Rewriter.WithStats(x.dev)
	out := attachments.Outbound{Option: opt, Forward: cmd != eas.CmdSendMail}
	rewriteMIME := func(mime []byte) ([]byte, error) {
		var buf bytes.Buffer
		if _, err := rw.RewriteOutbound(bytes.NewReader(mime), &buf, out); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	if x.info.Version.Compare(eas.V140) < 0 || !strings.Contains(r.Header.Get("Content-Type"), "wbxml") {
		// 12.1: the body is the MIME message itself.
		if body, err = rewriteMIME(body); err != nil {
			return err
		}
	} else {
		var msg interface{}
		switch cmd {
		case eas.CmdSendMail:
			msg = &eas.SendMail{}
		case eas.CmdSmartForward:
			msg = &eas.SmartForward{}
		default:
			msg = &eas.SmartReply{}
		}
		if err := wbxml.UnmarshalStruct(body, msg, wbxml.Limits{MaxSize: maxRewriteBody}); err != nil {
			return fmt.Errorf("outbound mail: %w", err)
		}
		mime := mimeField(msg)
		if *mime, err = rewriteMIME(*mime); err != nil {
			return err
		}
		if body, err = wbxml.MarshalStruct(msg); err != nil {
			return err
		}
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

func mimeField(msg interface{}) *[]byte {
	switch m := msg.(type) {
	case *eas.SendMail:
		return &m.Mime
	case *eas.SmartForward:
		return &m.Mime
	case *eas.SmartReply:
		return &m.Mime
	}
	panic("unreachable")
}

// rewriteInbound applies the device's option to a response that can carry
// attachments: Sync, ItemOperations, Search and GetAttachment. Under
// Remove and Encrypt it fails closed: a response it cannot decode is
// refused (refuse: HTTP 502), and what it decodes but cannot rewrite is
// replaced inside the response (attachments.Result.Unprocessable); the
// original never passes. Other commands carry no attachments and pass, as
// everything does for a device whose option changes nothing.
func (h *Handler) rewriteInbound(resp *http.Response, x *exchange) error {
	ac, opt, lang := h.attachOption(x, false)
	cmd := x.info.Query.Cmd
	if ac == nil || resp.StatusCode/100 != 2 || !carriesAttachments(cmd) {
		return nil
	}
	if err := decodeContentEncoding(resp); err != nil {
		return h.refuse(resp, x, "content-encoding")
	}
	rw := ac.Rewriter.WithStats(x.dev)
	if cmd == eas.CmdGetAttachment {
		h.rewriteGetAttachment(resp, x, rw, opt, lang)
		return nil
	}
	body, err := readBounded(resp.Body, maxRewriteBody)
	resp.Body.Close()
	if err != nil {
		return h.refuse(resp, x, "read")
	}
	if len(body) == 0 {
		setBody(resp, body) // "no changes": nothing to rewrite
		return nil
	}
	var (
		out    []byte
		res    attachments.Result
		reason string
	)
	switch cmd {
	case eas.CmdSync:
		out, res, reason = h.rewriteSyncBody(body, rw, opt, lang)
	case eas.CmdItemOperations:
		multipart := strings.HasPrefix(strings.ToLower(resp.Header.Get("Content-Type")), eas.ContentTypeMultipart)
		out, res, reason = h.rewriteItemOperationsBody(body, multipart, rw, opt, lang)
	case eas.CmdSearch:
		out, res, reason = rewriteSearchBody(body, rw, opt, lang)
	}
	if reason != "" {
		return h.refuse(resp, x, reason)
	}
	if res.Unprocessable > 0 {
		h.cfg.Log.Warn("attachment control replaced content it could not rewrite",
			"device", x.key.DeviceID, "command", string(cmd), "count", res.Unprocessable)
	}
	setBody(resp, out)
	return nil
}

// carriesAttachments reports the commands whose responses can hold
// attachment content or names.
func carriesAttachments(cmd eas.Command) bool {
	switch cmd {
	case eas.CmdSync, eas.CmdItemOperations, eas.CmdSearch, eas.CmdGetAttachment:
		return true
	}
	return false
}

// rewriteGetAttachment streams a GetAttachment body (protocol 12.1 and
// earlier) through the rewrite: attachments can be large, memory stays
// bounded. A failure part way cuts the transfer (the status is already
// sent): what was written was rewritten, the rest never goes out.
func (h *Handler) rewriteGetAttachment(resp *http.Response, x *exchange, rw *attachments.Rewriter, opt attachments.Option, lang string) {
	// AttachmentName is the FileReference; the name the Sync listed
	// decides the exclusion list, as for ItemOperations.
	in := attachments.AttachmentInfo{Name: h.names.lookup(x.info.Query.AttachmentName), ContentType: resp.Header.Get("Content-Type")}
	pr, pw := io.Pipe()
	src := resp.Body
	go func() {
		_, _, err := rw.RewriteAttachment(pw, src, in, opt, lang)
		src.Close()
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			x.count(stats.AttachmentRewriteFailed)
			h.cfg.Log.Warn("attachment control cut a GetAttachment it could not rewrite", "device", x.key.DeviceID)
		}
		pw.CloseWithError(err)
	}()
	resp.Body, resp.ContentLength = pr, -1
	resp.Header.Del("Content-Length")
}

// rewriteSyncBody rewrites a Sync response; reason is set when it cannot
// be decoded or encoded again.
func (h *Handler) rewriteSyncBody(body []byte, rw *attachments.Rewriter, opt attachments.Option, lang string) ([]byte, attachments.Result, string) {
	var sr eas.SyncResponse
	if err := decodeResponse(body, &sr); err != nil {
		return nil, attachments.Result{}, "undecodable Sync"
	}
	h.names.learn(&sr)
	res, err := rw.RewriteSync(&sr, opt, lang)
	if err != nil {
		return nil, res, "Sync rewrite"
	}
	out, err := wbxml.MarshalStruct(&sr)
	if err != nil {
		return nil, res, "Sync encode"
	}
	return out, res, ""
}

// rewriteItemOperationsBody rewrites an ItemOperations response, inline or
// multipart; reason is set when it cannot be decoded or encoded again.
func (h *Handler) rewriteItemOperationsBody(body []byte, multipart bool, rw *attachments.Rewriter, opt attachments.Option, lang string) ([]byte, attachments.Result, string) {
	parts := [][]byte{body}
	if multipart {
		var err error
		if parts, err = eas.ParseMultipart(body, eas.MultipartLimits{MaxSize: maxRewriteBody}); err != nil {
			return nil, attachments.Result{}, "undecodable multipart"
		}
	}
	var ir eas.ItemOperationsResponse
	if err := decodeResponse(parts[0], &ir); err != nil {
		return nil, attachments.Result{}, "undecodable ItemOperations"
	}
	parts, res, err := rw.RewriteItemOperations(&ir, parts, h.names.lookup, opt, lang)
	switch {
	case errors.Is(err, attachments.ErrRangeFetch):
		return nil, res, "ranged fetch"
	case err != nil:
		return nil, res, "ItemOperations rewrite"
	}
	if parts[0], err = wbxml.MarshalStruct(&ir); err != nil {
		return nil, res, "ItemOperations encode"
	}
	out := parts[0]
	if multipart {
		if out, err = eas.BuildMultipart(parts); err != nil {
			return nil, res, "multipart encode"
		}
	}
	return out, res, ""
}

// rewriteSearchBody rewrites a Search response, which this gateway keeps
// as a tree; reason is set when it cannot be decoded or encoded again.
func rewriteSearchBody(body []byte, rw *attachments.Rewriter, opt attachments.Option, lang string) ([]byte, attachments.Result, string) {
	doc, err := wbxml.Parse(body, wbxml.Limits{MaxSize: maxRewriteBody})
	if err != nil || doc.Root.Tag != wbxml.MustTag("Search:Search") {
		return nil, attachments.Result{}, "undecodable Search"
	}
	res := rw.RewriteSearch(doc.Root, opt, lang)
	out, err := wbxml.Marshal(doc.Root)
	if err != nil {
		return nil, res, "Search encode"
	}
	return out, res, ""
}

// decodeResponse decodes a WBXML response into a message struct. A text
// holding NUL, which the binding refuses, is scrubbed and the decoding
// tried once more (attachments.ScrubNUL): one hostile header must not
// make a whole response undeliverable, nor let it through unread.
func decodeResponse(body []byte, v any) error {
	doc, err := wbxml.Parse(body, wbxml.Limits{MaxSize: maxRewriteBody})
	if err != nil {
		return err
	}
	if err = wbxml.NodeToStruct(doc.Root, v); err == nil || !attachments.ScrubNUL(doc.Root) {
		return err
	}
	reflect.ValueOf(v).Elem().SetZero()
	return wbxml.NodeToStruct(doc.Root, v)
}

// decodeContentEncoding undoes a gzip or deflate Content-Encoding, which a
// server may apply when the device accepts it: the rewrite reads the
// content, and compressed bytes it would take for undecodable or, in
// GetAttachment, encrypt as they are. Other codings are refused.
func decodeContentEncoding(resp *http.Response) error {
	ce := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	var (
		r   io.ReadCloser
		err error
	)
	switch ce {
	case "", "identity":
		return nil
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(resp.Body)
	case "deflate":
		r, err = zlib.NewReader(resp.Body)
	default:
		return fmt.Errorf("content coding %q", ce)
	}
	if err != nil {
		resp.Body.Close()
		resp.Body = http.NoBody
		return err
	}
	resp.Body = &decodedBody{Reader: r, dec: r, raw: resp.Body}
	resp.ContentLength = -1
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	return nil
}

// decodedBody closes both the decoder and the body it reads.
type decodedBody struct {
	io.Reader
	dec, raw io.Closer
}

func (d *decodedBody) Close() error {
	d.dec.Close()
	return d.raw.Close()
}

// refuse answers the device with 502 instead of a response attachment
// control could not process, counts attachment-rewrite-failed and logs
// why, without any content.
func (h *Handler) refuse(resp *http.Response, x *exchange, reason string) error {
	x.count(stats.AttachmentRewriteFailed)
	h.cfg.Log.Warn("attachment control refused a server response it could not rewrite",
		"device", x.key.DeviceID, "command", string(x.info.Query.Cmd), "reason", reason)
	badGateway(resp, "attachment control could not process the server's response\n")
	return nil
}

// badGateway replaces a server response the device must not get with a
// 502 carrying msg.
func badGateway(resp *http.Response, msg string) {
	if resp.Body != nil {
		resp.Body.Close()
	}
	resp.StatusCode, resp.Status = http.StatusBadGateway, "502 Bad Gateway"
	resp.Header = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	setBody(resp, []byte(msg))
}

// readBounded reads all of r, or fails with errBodyTooLarge past max bytes.
func readBounded(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: over %d bytes", errBodyTooLarge, max)
	}
	return b, nil
}

func setBody(resp *http.Response, b []byte) {
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
}

// fileNames remembers the original name of each attachment a Sync
// response announced, by FileReference, so that an ItemOperations fetch of
// it (which carries no name) is judged by the same exclusion list. It is
// bounded; when full it starts over, and a forgotten name only means the
// attachment is treated as unnamed (encrypted or removed, never leaked).
type fileNames struct {
	mu sync.Mutex
	m  map[string]string
}

const maxFileNames = 200_000

func (f *fileNames) learn(sr *eas.SyncResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || len(f.m) > maxFileNames {
		f.m = make(map[string]string)
	}
	for _, c := range sr.Collections {
		if c.Commands == nil {
			continue
		}
		for _, list := range [][]eas.SyncItem{c.Commands.Add, c.Commands.Change} {
			for _, it := range list {
				if it.ApplicationData == nil {
					continue
				}
				for _, a := range it.ApplicationData.Attachments {
					if a.FileReference != "" {
						f.m[a.FileReference] = a.DisplayName
					}
				}
			}
		}
	}
}

func (f *fileNames) lookup(ref string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[ref]
}
