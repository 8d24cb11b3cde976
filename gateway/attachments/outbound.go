package attachments

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"path"
	"strings"

	"github.com/emersion/go-message/textproto"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// Outbound describes mail a device sends (SendMail, SmartForward,
// SmartReply).
type Outbound struct {
	// Option is the device's attachment option. Only Encrypt decrypts on
	// the way out: after switching away from it the gateway stops
	// decrypting (ATT-17).
	Option Option
	// Recipients are addresses known besides the message's own To, Cc and
	// Bcc (which are always read).
	Recipients []string
	// Forward is set for SmartForward and SmartReply: decrypted attachments
	// count as attachments-fwd-restored rather than attachments-converted.
	Forward bool
}

// UndecryptableSuffix is appended to the name of the text file that
// replaces an attachment the gateway cannot decrypt (ATT-11).
const UndecryptableSuffix = ".not-decrypted.txt"

// UndecryptableText explains the replacement (the seeds give no text).
func UndecryptableText(name string) []byte {
	return []byte("The attachment \"" + name + "\" was encrypted with an attachment encryption key that is no longer " +
		"valid, so the gateway could not decrypt it for this recipient. Ask the sender to attach the original file again.\r\n")
}

// RewriteOutbound applies attachment control to a MIME message a device
// sends (ATT-14, ATT-15). Encrypted attachments (.attachctrl, .secure) stay
// encrypted when every recipient is a work recipient, and are decrypted
// when any recipient is not: one copy of the message reaches everyone, and
// a non-work recipient could not read it otherwise. An attachment whose key
// is gone (regenerated, ATT-11) or that is not in this gateway's format is
// replaced by a text file explaining why (decryption-failures). One that
// fails authentication part way fails the whole rewrite: the message must
// not be sent. Forwarded .removed.html files pass as they are (ATT-20).
func (r *Rewriter) RewriteOutbound(src io.Reader, dst io.Writer, o Outbound) (Result, error) {
	var res Result
	if o.Option != Encrypt {
		res.Untouched = true
		_, err := io.Copy(dst, src)
		return res, err
	}
	hl := &headerLimit{r: src, n: r.limits.MaxHeaderBytes, armed: true}
	br := bufio.NewReaderSize(hl, 4096)
	h, err := textproto.ReadHeader(br)
	if err != nil {
		return res, fmt.Errorf("attachments: MIME header: %w", err)
	}
	hl.armed = false
	recipients := append(headerAddresses(&h), o.Recipients...)
	allWork := true
	for _, rc := range recipients {
		if !r.policy.IsWork(rc) {
			allWork = false
			break
		}
	}
	if allWork {
		res.Untouched = true
		if err := textproto.WriteHeader(dst, h); err != nil {
			return res, err
		}
		_, err := io.Copy(dst, br)
		return res, err
	}
	w := &walk{r: r, opt: Encrypt, res: &res, outbound: true, forward: o.Forward}
	err = w.entity(h, br, func(h textproto.Header) (io.Writer, error) {
		return dst, textproto.WriteHeader(dst, h)
	}, 0, 0)
	return res, err
}

// headerAddresses lists To, Cc and Bcc.
func headerAddresses(h *textproto.Header) []string {
	var out []string
	for _, k := range []string{"To", "Cc", "Bcc"} {
		for _, v := range h.Values(k) {
			list, err := mail.ParseAddressList(v)
			if err != nil {
				// Unparsable: keep the raw pieces so they count as non-work.
				out = append(out, strings.Split(v, ",")...)
				continue
			}
			for _, a := range list {
				out = append(out, a.Address)
			}
		}
	}
	return out
}

// plainName strips the encryption extension.
func plainName(name string) string {
	l := strings.ToLower(name)
	for _, ext := range []string{ExtAttachCtrl, ExtSecure} {
		if strings.HasSuffix(l, ext) {
			return name[:len(name)-len(ext)]
		}
	}
	return name
}

// outboundAttachment decrypts one attachment if it is encrypted.
func (w *walk) outboundAttachment(h textproto.Header, body io.Reader, emit emitFunc, name string) error {
	dec := bufio.NewReaderSize(transferDecoder(h.Get("Content-Transfer-Encoding"), body), 4096)
	magic, _ := dec.Peek(len(Magic))
	ours := string(magic) == Magic
	if !ours && !IsEncryptedName(name) {
		// Not encrypted: pass the original bytes (dec has only peeked).
		return passthroughDecoded(h, dec, emit)
	}
	plain := plainName(name)
	if plain == "" {
		plain = "attachment"
	}
	var dr *DecryptReader
	err := ErrFormat
	if ours {
		dr, err = NewDecryptReader(dec, w.r.keys)
	}
	if err != nil {
		// Old key or foreign format: explain instead (ATT-11).
		w.res.Undecryptable++
		w.r.add(stats.DecryptionFailures, 1)
		w.r.add(stats.AttachmentsRenamed, 1)
		out, err := emit(attachmentHeader(h, "text/plain", plain+UndecryptableSuffix))
		if err != nil {
			return err
		}
		enc := newBase64Body(out)
		if _, err := enc.Write(UndecryptableText(plain)); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, dec)
		return err
	}
	defer dr.Close()
	ct := mime.TypeByExtension(path.Ext(plain))
	if ct == "" {
		ct = "application/octet-stream"
	}
	out, err := emit(attachmentHeader(h, ct, plain))
	if err != nil {
		return err
	}
	enc := newBase64Body(out)
	n, err := io.Copy(enc, dr)
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		if errors.Is(err, ErrAuth) {
			w.r.add(stats.DecryptionFailures, 1)
		}
		return fmt.Errorf("attachments: decrypting %q: %w", name, err)
	}
	w.res.Decrypted++
	w.res.Bytes += n
	if w.forward {
		w.r.add(stats.AttachmentsFwdRestored, 1)
	} else {
		w.r.add(stats.AttachmentsConverted, 1)
	}
	w.r.add(stats.AttachmentsRenamed, 1)
	w.r.addSize(n)
	return nil
}

// passthroughDecoded re-emits an attachment from its decoded bytes,
// re-encoded as base64 (the original transfer encoding was consumed).
func passthroughDecoded(h textproto.Header, dec io.Reader, emit emitFunc) error {
	cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if cte != "base64" && cte != "quoted-printable" {
		return passthrough(h, dec, emit)
	}
	h = h.Copy()
	h.Set("Content-Transfer-Encoding", "base64")
	out, err := emit(h)
	if err != nil {
		return err
	}
	enc := newBase64Body(out)
	if _, err := io.Copy(enc, dec); err != nil {
		return err
	}
	return enc.Close()
}
