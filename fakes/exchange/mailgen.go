package exchange

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/big"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
	"time"
)

// This file generates and parses MIME mail. It depends on nothing else in
// the package, so other packages (the lab) can use it to build messages.
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
		disp := "attachment"
		if a.Inline {
			disp = "inline"
		}
		ah.Set("Content-Type", mime.FormatMediaType(ct, map[string]string{"name": a.Name}))
		ah.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": a.Name}))
		if a.ContentID != "" {
			ah.Set("Content-ID", "<"+a.ContentID+">")
		}
		var data []byte
		if strings.EqualFold(ct, "message/rfc822") {
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

// GeneratedMessage is one generated message and what went into it, so that
// tests can compare what a client received with what was generated.
type GeneratedMessage struct {
	Kind        string // plain, html, attachments, eml, nested-eml, smime-signed, smime-encrypted
	Subject     string
	Raw         []byte
	Attachments []MailAttachment // top-level attachments as built (an attached .eml as message/rfc822)
}

// Generator produces a deterministic stream of realistic messages from a
// seed (math/rand/v2 PCG). It is not safe for concurrent use.
type Generator struct {
	rng    *rand.Rand
	domain string
	n      int
	base   time.Time
	cert   []byte // DER of the S/MIME signer certificate
	key    ed25519.PrivateKey
	serial *big.Int
	issuer []byte // DER of the certificate's issuer Name
}

// GeneratorKinds lists the message kinds in the order Next cycles through
// them, so any run of len(GeneratorKinds) messages holds one of each.
var GeneratorKinds = []string{"attachments", "plain", "nested-eml", "html", "smime-signed", "eml", "smime-encrypted", "attachments"}

// NewGenerator returns a generator for addresses in domain.
func NewGenerator(seed uint64, domain string) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc908)), domain: domain,
		base: time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)}
	var ks [32]byte
	for i := range ks {
		ks[i] = byte(g.rng.UintN(256))
	}
	g.key = ed25519.NewKeyFromSeed(ks[:])
	g.serial = big.NewInt(int64(g.rng.Uint32()) + 1)
	tmpl := &x509.Certificate{
		SerialNumber:   g.serial,
		Subject:        pkix.Name{CommonName: "gatehouse S/MIME test signer", Organization: []string{"gatehouse"}},
		NotBefore:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:       time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{"signer@" + domain},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, g.key.Public(), g.key)
	if err == nil {
		g.cert = der
		if c, err := x509.ParseCertificate(der); err == nil {
			g.issuer = c.RawIssuer
		}
	}
	return g
}

var (
	firstNames = []string{"Alice", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko", "Liam"}
	lastNames  = []string{"Martin", "Okafor", "Rossi", "Novak", "Schmidt", "Haddad", "Lindqvist", "Tanaka", "Moreau", "Silva"}
	topics     = []string{"Quarterly report", "Travel plans", "Budget review", "Release notes", "Team offsite", "Invoice", "Contract draft", "Incident summary", "Design review", "Weekly status"}
	words      = strings.Fields("the gateway device mailbox policy sync review please attached find report numbers draft update meeting agenda notes server client folder message budget quarter result plan team schedule")
)

func (g *Generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *Generator) person() string {
	f, l := g.pick(firstNames), g.pick(lastNames)
	return fmt.Sprintf("%q <%s.%s@partner.%s>", f+" "+l, strings.ToLower(f), strings.ToLower(l), g.domain)
}

func (g *Generator) sentence(n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = g.pick(words)
	}
	s := strings.Join(w, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func (g *Generator) paragraphs(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		for j := 0; j < 3+g.rng.IntN(4); j++ {
			b.WriteString(g.sentence(6 + g.rng.IntN(10)))
			b.WriteByte(' ')
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

// Next generates the next message to the given recipient ("Name <addr>").
func (g *Generator) Next(to string) *GeneratedMessage {
	kind := GeneratorKinds[g.n%len(GeneratorKinds)]
	g.n++
	c := Compose{
		From:       g.person(),
		To:         []string{to},
		Subject:    fmt.Sprintf("%s #%d", g.pick(topics), g.n),
		Text:       g.paragraphs(1 + g.rng.IntN(3)),
		Date:       g.base.Add(-time.Duration(g.rng.IntN(30*24)) * time.Hour).Add(time.Duration(g.n) * time.Minute),
		MessageID:  fmt.Sprintf("<gen.%d.%08x@%s>", g.n, g.rng.Uint32(), g.domain),
		Importance: []string{"", "", "", "high", "low"}[g.rng.IntN(5)],
	}
	gm := &GeneratedMessage{Kind: kind, Subject: c.Subject}
	switch kind {
	case "html":
		c.HTML = "<html><body><p>" + strings.ReplaceAll(c.Text, "\n\n", "</p><p>") + "</p></body></html>"
	case "attachments":
		for i := 0; i < 1+g.rng.IntN(3); i++ {
			c.Attachments = append(c.Attachments, g.Attachment(""))
		}
	case "eml":
		c.Attachments = append(c.Attachments, g.attachedMessage(1))
	case "nested-eml":
		c.Attachments = append(c.Attachments, g.attachedMessage(2+g.rng.IntN(5))) // 2-6 levels
	case "smime-signed":
		c.Subject += " (signed)"
		gm.Subject = c.Subject
		gm.Raw = g.signed(c)
		gm.Attachments = []MailAttachment{{Name: "smime.p7s", ContentType: "application/pkcs7-signature"}}
		return gm
	case "smime-encrypted":
		c.Subject += " (encrypted)"
		raw, blob := g.encrypted(c)
		gm.Subject, gm.Raw = c.Subject, raw
		gm.Attachments = []MailAttachment{{Name: "smime.p7m", ContentType: "application/pkcs7-mime", Data: blob}}
		return gm
	}
	raw, err := BuildMIME(c)
	if err != nil {
		panic(err) // only reachable through an invalid boundary, which boundaryFor never makes
	}
	gm.Raw, gm.Attachments = raw, c.Attachments
	return gm
}

// attachedMessage builds a message/rfc822 attachment nested depth levels
// deep (each level attaches the next) with a small file at the bottom.
func (g *Generator) attachedMessage(depth int) MailAttachment {
	c := Compose{From: g.person(), To: []string{g.person()}, Subject: fmt.Sprintf("Fwd level %d: %s", depth, g.pick(topics)),
		Text: g.paragraphs(1), Date: g.base.Add(-time.Duration(depth) * 24 * time.Hour),
		MessageID: fmt.Sprintf("<nested.%d.%d.%08x@%s>", g.n, depth, g.rng.Uint32(), g.domain)}
	if depth > 1 {
		c.Attachments = []MailAttachment{g.attachedMessage(depth - 1)}
	} else {
		c.Attachments = []MailAttachment{g.Attachment("txt")}
	}
	raw, _ := BuildMIME(c)
	return MailAttachment{Name: c.Subject + ".eml", ContentType: "message/rfc822", Data: raw}
}

// attachmentKinds are the file types Attachment makes, with weights that
// favour documents and pictures.
var attachmentKinds = []string{"pdf", "pdf", "docx", "xlsx", "jpg", "jpg", "png", "txt", "ics", "log"}

// Attachment makes one file of the given kind (pdf, docx, xlsx, jpg, png,
// txt, ics, log), or a random kind when kind is "".
func (g *Generator) Attachment(kind string) MailAttachment {
	if kind == "" {
		kind = g.pick(attachmentKinds)
	}
	base := strings.ToLower(strings.ReplaceAll(g.pick(topics), " ", "-"))
	name := fmt.Sprintf("%s-%d.%s", base, g.rng.IntN(1000), kind)
	switch kind {
	case "pdf":
		return MailAttachment{Name: name, ContentType: "application/pdf", Data: g.pdf(4<<10 + g.rng.IntN(300<<10))}
	case "docx":
		return MailAttachment{Name: name, ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Data: g.ooxml("word")}
	case "xlsx":
		return MailAttachment{Name: name, ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: g.ooxml("xl")}
	case "jpg":
		return MailAttachment{Name: name, ContentType: "image/jpeg", Data: g.picture(true)}
	case "png":
		return MailAttachment{Name: name, ContentType: "image/png", Data: g.picture(false)}
	case "ics":
		return MailAttachment{Name: name, ContentType: "text/calendar", Data: g.ics()}
	case "log":
		return MailAttachment{Name: name, ContentType: "text/plain", Data: g.log(200 + g.rng.IntN(3000))}
	default:
		return MailAttachment{Name: strings.TrimSuffix(name, "."+kind) + ".txt", ContentType: "text/plain", Data: []byte(g.paragraphs(2 + g.rng.IntN(6)))}
	}
}

func (g *Generator) pdf(size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	b.WriteString("2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n")
	b.WriteString("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n")
	fmt.Fprintf(&b, "4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", size)
	chunk := make([]byte, size)
	for i := range chunk {
		chunk[i] = byte(g.rng.UintN(256))
	}
	b.Write(chunk)
	b.WriteString("\nendstream\nendobj\ntrailer\n<< /Root 1 0 R /Size 5 >>\nstartxref\n0\n%%EOF\n")
	return b.Bytes()
}

func (g *Generator) ooxml(dir string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	mod := time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC)
	add := func(name, content string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod})
		if err == nil {
			_, _ = io.WriteString(w, content)
		}
	}
	main := "word/document.xml"
	ctype := "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
	if dir == "xl" {
		main, ctype = "xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
	}
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/`+main+`" ContentType="`+ctype+`"/></Types>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="`+main+`"/></Relationships>`)
	var body strings.Builder
	for i := 0; i < 20+g.rng.IntN(200); i++ {
		if dir == "xl" {
			fmt.Fprintf(&body, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c><c r="B%d"><v>%d</v></c></row>`, i+1, i+1, g.pick(words), i+1, g.rng.IntN(100000))
		} else {
			fmt.Fprintf(&body, `<w:p><w:r><w:t>%s</w:t></w:r></w:p>`, g.sentence(8+g.rng.IntN(12)))
		}
	}
	if dir == "xl" {
		add(main, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>`)
		add("xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+body.String()+`</sheetData></worksheet>`)
	} else {
		add(main, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+body.String()+`</w:body></w:document>`)
	}
	_ = zw.Close()
	return b.Bytes()
}

func (g *Generator) picture(isJPEG bool) []byte {
	w, h := 48+g.rng.IntN(400), 48+g.rng.IntN(300)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r0, g0, b0 := g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(r0 + x), uint8(g0 + y), uint8(b0 + x*y/64), 255})
		}
	}
	var b bytes.Buffer
	if isJPEG {
		_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	} else {
		_ = png.Encode(&b, img)
	}
	return b.Bytes()
}

func (g *Generator) ics() []byte {
	start := g.base.Add(time.Duration(g.rng.IntN(60*24)) * time.Hour)
	return []byte(strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//gatehouse//mailgen//EN", "METHOD:REQUEST", "BEGIN:VEVENT",
		fmt.Sprintf("UID:%08x@%s", g.rng.Uint32(), g.domain),
		"DTSTAMP:" + g.base.Format("20060102T150405Z"),
		"DTSTART:" + start.Format("20060102T150405Z"),
		"DTEND:" + start.Add(time.Hour).Format("20060102T150405Z"),
		"SUMMARY:" + g.pick(topics), "LOCATION:Room " + fmt.Sprint(100+g.rng.IntN(400)),
		"END:VEVENT", "END:VCALENDAR", "",
	}, "\r\n"))
}

func (g *Generator) log(lines int) []byte {
	var b bytes.Buffer
	t := g.base
	levels := []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"}
	for i := 0; i < lines; i++ {
		t = t.Add(time.Duration(g.rng.IntN(5000)) * time.Millisecond)
		fmt.Fprintf(&b, "%s %-5s [worker-%d] %s\n", t.Format("2006-01-02T15:04:05.000Z"), g.pick(levels), g.rng.IntN(8), g.sentence(5+g.rng.IntN(8)))
	}
	return b.Bytes()
}

// CMS object identifiers.
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo struct{ ContentType asn1.ObjectIdentifier }
	Certificates     asn1.RawValue
	SignerInfos      []signerInfo `asn1:"set"`
}

type keyTransRecipient struct {
	Version      int
	RID          issuerAndSerial
	KeyAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey []byte
}

type encryptedContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Algorithm   pkix.AlgorithmIdentifier
	Content     asn1.RawValue
}

type envelopedData struct {
	Version        int
	RecipientInfos []keyTransRecipient `asn1:"set"`
	Encrypted      encryptedContentInfo
}

func contentInfo(oid asn1.ObjectIdentifier, inner []byte) []byte {
	out, _ := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{oid, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
	return out
}

func (g *Generator) sid() issuerAndSerial {
	return issuerAndSerial{Issuer: asn1.RawValue{FullBytes: g.issuer}, Serial: g.serial}
}

// signed renders c as multipart/signed with a detached CMS signature.
func (g *Generator) signed(c Compose) []byte {
	inner := Compose{Text: c.Text, Subject: c.Subject, MessageID: c.MessageID}
	body, bh := bodyEntity(inner, "")
	var part bytes.Buffer
	writeHeader(&part, bh)
	part.Write(body)
	sig := ed25519.Sign(g.key, part.Bytes())
	sd := signedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{{Algorithm: oidSHA256}},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: g.cert},
		SignerInfos: []signerInfo{{Version: 1, SID: g.sid(), DigestAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256},
			SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidEd25519}, Signature: sig}},
	}
	sd.EncapContentInfo.ContentType = oidData
	der, _ := asn1.Marshal(sd)
	p7s := contentInfo(oidSignedData, der)

	bnd := boundaryFor(c) + "s"
	var b bytes.Buffer
	h := g.topHeader(c)
	h.Set("Content-Type", `multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="`+bnd+`"`)
	writeHeader(&b, h)
	b.WriteString("This is an S/MIME signed message\r\n\r\n--" + bnd + "\r\n")
	b.Write(part.Bytes())
	b.WriteString("\r\n--" + bnd + "\r\n")
	b.WriteString("Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n")
	b.Write(base64Lines(p7s))
	b.WriteString("--" + bnd + "--\r\n")
	return b.Bytes()
}

// encrypted renders c as application/pkcs7-mime enveloped-data with random
// ciphertext; it returns the message and the DER blob.
func (g *Generator) encrypted(c Compose) ([]byte, []byte) {
	rnd := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(g.rng.UintN(256))
		}
		return b
	}
	iv, _ := asn1.Marshal(rnd(16))
	ed := envelopedData{
		RecipientInfos: []keyTransRecipient{{RID: g.sid(), KeyAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidRSA, Parameters: asn1.NullRawValue}, EncryptedKey: rnd(256)}},
		Encrypted: encryptedContentInfo{ContentType: oidData, Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: iv}},
			Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: rnd(16 * (8 + g.rng.IntN(200)))}},
	}
	der, _ := asn1.Marshal(ed)
	p7m := contentInfo(oidEnvelopedData, der)
	var b bytes.Buffer
	h := g.topHeader(c)
	h.Set("Content-Type", `application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"`)
	h.Set("Content-Disposition", `attachment; filename="smime.p7m"`)
	h.Set("Content-Transfer-Encoding", "base64")
	writeHeader(&b, h)
	b.Write(base64Lines(p7m))
	return b.Bytes(), p7m
}

func (g *Generator) topHeader(c Compose) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	h.Set("From", c.From)
	h.Set("To", strings.Join(c.To, ", "))
	h.Set("Subject", c.Subject)
	h.Set("Date", c.Date.Format(time.RFC1123Z))
	h.Set("Message-ID", c.MessageID)
	h.Set("MIME-Version", "1.0")
	return h
}
