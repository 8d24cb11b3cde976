package exchange

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// ParseMIME and what it returns: the parsing half of the mail files
// (mime_build.go).

// ParsedMessage is what ParseMIME extracts from a message.
type ParsedMessage struct {
	From, To, Cc, Bcc, ReplyTo string
	Subject                    string
	MessageID                  string
	Date                       time.Time
	Importance                 int // 0 low, 1 normal, 2 high
	Text, HTML                 string
	// SMIME is "signed", "encrypted" or "".
	SMIME       string
	Attachments []ParsedAttachment
}

// ParsedAttachment is one attachment: a leaf part that is not the body,
// an attached message (message/rfc822, kept whole), or an S/MIME blob.
type ParsedAttachment struct {
	Name        string
	ContentType string
	Data        []byte
	ContentID   string
	Inline      bool
	Message     bool // message/rfc822: Data is the whole attached message
}

// maxMIMEDepth bounds multipart nesting inside one message (attached
// messages are kept whole and not descended into).
const maxMIMEDepth = 16

// ParseMIME parses a message, decoding transfer encodings of attachments.
func ParseMIME(raw []byte) (*ParsedMessage, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("mime: %w", err)
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return nil, fmt.Errorf("mime: %w", err)
	}
	dec := new(mime.WordDecoder)
	hdr := func(k string) string {
		v := m.Header.Get(k)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	p := &ParsedMessage{
		From: hdr("From"), To: hdr("To"), Cc: hdr("Cc"), Bcc: hdr("Bcc"), ReplyTo: hdr("Reply-To"),
		Subject: hdr("Subject"), MessageID: m.Header.Get("Message-Id"), Importance: 1,
	}
	if d, err := m.Header.Date(); err == nil {
		p.Date = d.UTC()
	}
	switch strings.ToLower(m.Header.Get("Importance")) {
	case "high":
		p.Importance = 2
	case "low":
		p.Importance = 0
	}
	if err := p.walk(textproto.MIMEHeader(m.Header), body, 0); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *ParsedMessage) walk(h textproto.MIMEHeader, body []byte, depth int) error {
	if depth > maxMIMEDepth {
		return fmt.Errorf("mime: multipart nested deeper than %d", maxMIMEDepth)
	}
	ct := h.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || ct == "" {
		mt, params = "text/plain", map[string]string{}
	}
	if depth == 0 {
		switch {
		case mt == "multipart/signed":
			p.SMIME = "signed"
		case mt == "application/pkcs7-mime" || mt == "application/x-pkcs7-mime":
			if strings.EqualFold(params["smime-type"], "signed-data") {
				p.SMIME = "signed"
			} else {
				p.SMIME = "encrypted"
			}
		}
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("mime: %s: %w", mt, err)
			}
			pb, err := io.ReadAll(part)
			if err != nil {
				return fmt.Errorf("mime: %s part: %w", mt, err)
			}
			if err := p.walk(part.Header, pb, depth+1); err != nil {
				return err
			}
		}
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if d, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
		name = d
	}
	data, err := decodeCTE(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return err
	}
	isText := mt == "text/plain" || mt == "text/html"
	if isText && disp != "attachment" && name == "" {
		if mt == "text/plain" && p.Text == "" {
			p.Text = string(data)
			return nil
		}
		if mt == "text/html" && p.HTML == "" {
			p.HTML = string(data)
			return nil
		}
	}
	a := ParsedAttachment{ContentType: mt, Data: data, Inline: disp == "inline",
		ContentID: strings.Trim(h.Get("Content-Id"), "<>"), Message: mt == "message/rfc822"}
	if name == "" {
		name = defaultName(mt, data, len(p.Attachments))
	}
	a.Name = name
	p.Attachments = append(p.Attachments, a)
	return nil
}

func defaultName(mt string, data []byte, i int) string {
	switch mt {
	case "message/rfc822":
		if m, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
			if s := m.Header.Get("Subject"); s != "" {
				return s + ".eml"
			}
		}
		return fmt.Sprintf("message%d.eml", i+1)
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return "smime.p7s"
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return "smime.p7m"
	}
	ext := ".bin"
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		ext = exts[0]
	}
	return fmt.Sprintf("attachment%d%s", i+1, ext)
}

func decodeCTE(cte string, body []byte) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		out, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.TrimRight(body, " \t\r\n"))))
		if err != nil {
			return nil, fmt.Errorf("mime: base64 part: %w", err)
		}
		return out, nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return nil, fmt.Errorf("mime: quoted-printable part: %w", err)
		}
		return out, nil
	}
	return body, nil
}
