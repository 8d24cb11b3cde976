package exchange

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"sort"
	"strings"
	"time"
)

// The mail files (mime_build.go, mime_parse.go, mailgen.go,
// mailgen_files.go, smime.go) generate and parse MIME mail. They depend on
// nothing else in the package, so other packages (the lab) can use them to
// build messages.
//
// S/MIME samples: signed messages carry a CMS SignedData (detached) with a
// real self-signed Ed25519 certificate and an Ed25519 signature over the
// signed part's bytes, without signed attributes; nothing in this project
// verifies it. Encrypted messages carry a CMS EnvelopedData whose
// structure is real but whose encrypted key and content are random bytes:
// they cannot be decrypted.

// MailAttachment is an attachment to build into a message.
type MailAttachment struct {
	Name        string
	ContentType string
	Data        []byte
	ContentID   string // set for inline parts
	Inline      bool
}

// Compose describes a message for BuildMIME.
type Compose struct {
	From        string
	To, Cc, Bcc []string
	Subject     string
	Text        string // text/plain body
	HTML        string // optional text/html alternative
	Date        time.Time
	MessageID   string
	InReplyTo   string
	Importance  string // "high", "normal", "low" or empty
	Attachments []MailAttachment
}

// BuildMIME renders c as an RFC 5322 message with CRLF line ends. Boundaries
// are derived from the content, so the same Compose gives the same bytes.
func BuildMIME(c Compose) ([]byte, error) {
	var b bytes.Buffer
	h := textproto.MIMEHeader{}
	h.Set("From", c.From)
	if len(c.To) > 0 {
		h.Set("To", strings.Join(c.To, ", "))
	}
	if len(c.Cc) > 0 {
		h.Set("Cc", strings.Join(c.Cc, ", "))
	}
	if len(c.Bcc) > 0 {
		h.Set("Bcc", strings.Join(c.Bcc, ", "))
	}
	h.Set("Subject", mime.QEncoding.Encode("utf-8", c.Subject))
	date := c.Date
	if date.IsZero() {
		date = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	}
	h.Set("Date", date.Format(time.RFC1123Z))
	if c.MessageID != "" {
		h.Set("Message-ID", c.MessageID)
	}
	if c.InReplyTo != "" {
		h.Set("In-Reply-To", c.InReplyTo)
	}
	if c.Importance != "" {
		h.Set("Importance", c.Importance)
	}
	h.Set("MIME-Version", "1.0")
	bnd := boundaryFor(c)
	if len(c.Attachments) == 0 {
		body, bh := bodyEntity(c, bnd+"a")
		for k, v := range bh {
			h[k] = v
		}
		writeHeader(&b, h)
		b.Write(body)
		return b.Bytes(), nil
	}
	h.Set("Content-Type", `multipart/mixed; boundary="`+bnd+`"`)
	writeHeader(&b, h)
	b.WriteString("This is a multi-part message in MIME format.\r\n")
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(bnd); err != nil {
		return nil, err
	}
	body, bh := bodyEntity(c, bnd+"a")
	pw, err := mw.CreatePart(bh)
	if err != nil {
		return nil, err
	}
	pw.Write(body)
	for _, a := range c.Attachments {
		ah := textproto.MIMEHeader{}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		// A type with parameters ("text/calendar; method=REQUEST") keeps
		// them: FormatMediaType of the whole string would give "".
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, fmt.Errorf("mime: attachment %q: content type %q: %w", a.Name, ct, err)
		}
		params["name"] = a.Name
		disp := "attachment"
		if a.Inline {
			disp = "inline"
		}
		ah.Set("Content-Type", mime.FormatMediaType(mt, params))
		ah.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": a.Name}))
		if a.ContentID != "" {
			ah.Set("Content-ID", "<"+a.ContentID+">")
		}
		var data []byte
		if mt == "message/rfc822" {
			ah.Set("Content-Transfer-Encoding", "8bit")
			data = a.Data
		} else {
			ah.Set("Content-Transfer-Encoding", "base64")
			data = base64Lines(a.Data)
		}
		pw, err := mw.CreatePart(ah)
		if err != nil {
			return nil, err
		}
		pw.Write(data)
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// bodyEntity renders the text (and HTML) body and returns its headers.
func bodyEntity(c Compose, bnd string) ([]byte, textproto.MIMEHeader) {
	h := textproto.MIMEHeader{}
	if c.HTML == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		return qp(c.Text), h
	}
	h.Set("Content-Type", `multipart/alternative; boundary="`+bnd+`"`)
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.SetBoundary(bnd)
	for _, p := range []struct{ ct, body string }{{"text/plain; charset=utf-8", c.Text}, {"text/html; charset=utf-8", c.HTML}} {
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Type", p.ct)
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		w, _ := mw.CreatePart(ph)
		w.Write(qp(p.body))
	}
	_ = mw.Close()
	return b.Bytes(), h
}

func boundaryFor(c Compose) string {
	s := sha256.Sum256([]byte(c.Subject + "\x00" + c.MessageID + "\x00" + c.Text + fmt.Sprint(len(c.Attachments))))
	return fmt.Sprintf("=_gh_%x", s[:10])
}

func writeHeader(b *bytes.Buffer, h textproto.MIMEHeader) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	// A stable, conventional order: addressing first, then the rest.
	rank := map[string]int{"From": 0, "To": 1, "Cc": 2, "Bcc": 3, "Subject": 4, "Date": 5, "Message-Id": 6}
	sort.Slice(keys, func(i, j int) bool {
		ri, oki := rank[keys[i]]
		rj, okj := rank[keys[j]]
		switch {
		case oki && okj:
			return ri < rj
		case oki != okj:
			return oki
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		name := k
		if k == "Message-Id" {
			name = "Message-ID"
		}
		if k == "Mime-Version" {
			name = "MIME-Version"
		}
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\r\n", name, v)
		}
	}
	b.WriteString("\r\n")
}

func qp(s string) []byte {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = io.WriteString(w, strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"))
	_ = w.Close()
	return b.Bytes()
}

// base64Lines encodes data as base64 in 76-character CRLF lines.
func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	b.Grow(len(enc) + len(enc)/76*2 + 2)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
	return b.Bytes()
}
