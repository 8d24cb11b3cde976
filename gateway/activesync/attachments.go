package activesync

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
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
	cls := attachments.Classify(q.DeviceType, x.info.UserAgent, nil)
	opt := ac.Policy.OptionFor(cls)
	lang := attachments.Language(q.DeviceType, x.info.UserAgent, nil)
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
	body, err := readBounded(r.Body, maxRewriteBody)
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
// attachments.
func (h *Handler) rewriteInbound(resp *http.Response, x *exchange) error {
	ac, opt, lang := h.attachOption(x, false)
	if ac == nil || resp.StatusCode != http.StatusOK {
		return nil
	}
	rw := ac.Rewriter.WithStats(x.dev)
	switch x.info.Query.Cmd {
	case eas.CmdGetAttachment:
		// Streamed: attachments can be large, memory stays bounded.
		in := attachments.AttachmentInfo{Name: x.info.Query.AttachmentName, ContentType: resp.Header.Get("Content-Type")}
		pr, pw := io.Pipe()
		src := resp.Body
		go func() {
			_, _, err := rw.RewriteAttachment(pw, src, in, opt, lang)
			src.Close()
			pw.CloseWithError(err)
		}()
		resp.Body, resp.ContentLength = pr, -1
		resp.Header.Del("Content-Length")
		return nil
	case eas.CmdSync:
		body, err := readBounded(resp.Body, maxRewriteBody)
		resp.Body.Close()
		if err != nil || len(body) == 0 {
			setBody(resp, body)
			return err
		}
		var sr eas.SyncResponse
		if err := wbxml.UnmarshalStruct(body, &sr, wbxml.Limits{MaxSize: maxRewriteBody}); err != nil {
			setBody(resp, body) // not a Sync with items (e.g. a bare status): nothing to rewrite
			return nil
		}
		h.names.learn(&sr)
		if _, err := rw.RewriteSync(&sr, opt, lang); err != nil {
			return fmt.Errorf("attachment control on Sync: %w", err)
		}
		out, err := wbxml.MarshalStruct(&sr)
		if err != nil {
			return err
		}
		setBody(resp, out)
	case eas.CmdItemOperations:
		body, err := readBounded(resp.Body, maxRewriteBody)
		resp.Body.Close()
		if err != nil {
			return err
		}
		multipart := strings.HasPrefix(resp.Header.Get("Content-Type"), eas.ContentTypeMultipart)
		parts := [][]byte{body}
		if multipart {
			if parts, err = eas.ParseMultipart(body, eas.MultipartLimits{MaxSize: maxRewriteBody}); err != nil {
				return fmt.Errorf("ItemOperations multipart: %w", err)
			}
		}
		var ir eas.ItemOperationsResponse
		if err := wbxml.UnmarshalStruct(parts[0], &ir, wbxml.Limits{MaxSize: maxRewriteBody}); err != nil {
			setBody(resp, body)
			return nil
		}
		parts, _, err = rw.RewriteItemOperations(&ir, parts, h.names.lookup, opt, lang)
		if err != nil {
			return fmt.Errorf("attachment control on ItemOperations: %w", err)
		}
		if parts[0], err = wbxml.MarshalStruct(&ir); err != nil {
			return err
		}
		out := parts[0]
		if multipart {
			if out, err = eas.BuildMultipart(parts); err != nil {
				return err
			}
		}
		setBody(resp, out)
	}
	return nil
}

func readBounded(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errors.New("body larger than the attachment control limit")
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
