package exchange

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/textproto"
	"strings"
	"time"
)

// S/MIME samples of the Generator: CMS (PKCS #7) SignedData and
// EnvelopedData built with encoding/asn1 (see mime_build.go).

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
