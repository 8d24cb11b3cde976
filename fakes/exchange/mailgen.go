package exchange

import (
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"time"
)

// Generator makes realistic mail from a seed: text here, attached files in
// mailgen_files.go, S/MIME in smime.go (see mime_build.go).

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
