package exchange

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"strings"
	"testing"
)

func TestGeneratorDeterministic(t *testing.T) {
	a, b := NewGenerator(7, "example.test"), NewGenerator(7, "example.test")
	c := NewGenerator(8, "example.test")
	differ := false
	for i := 0; i < 2*len(GeneratorKinds); i++ {
		ma, mb, mc := a.Next("u@example.test"), b.Next("u@example.test"), c.Next("u@example.test")
		if !bytes.Equal(ma.Raw, mb.Raw) {
			t.Fatalf("message %d (%s) differs between two generators with the same seed", i, ma.Kind)
		}
		differ = differ || !bytes.Equal(ma.Raw, mc.Raw)
	}
	if !differ {
		t.Fatal("different seeds gave the same messages")
	}
}

func TestGeneratorKindsParse(t *testing.T) {
	g := NewGenerator(1, "example.test")
	types := map[string]bool{}
	for i := 0; i < 4*len(GeneratorKinds); i++ {
		gm := g.Next("u@example.test")
		pm, err := ParseMIME(gm.Raw)
		if err != nil {
			t.Fatalf("%s: %v", gm.Kind, err)
		}
		if pm.Subject != gm.Subject {
			t.Errorf("%s: subject %q, want %q", gm.Kind, pm.Subject, gm.Subject)
		}
		for _, a := range pm.Attachments {
			types[a.ContentType] = true
		}
		switch gm.Kind {
		case "attachments":
			if len(pm.Attachments) != len(gm.Attachments) {
				t.Fatalf("%d attachments parsed, %d built", len(pm.Attachments), len(gm.Attachments))
			}
			for j, a := range gm.Attachments {
				if !bytes.Equal(pm.Attachments[j].Data, a.Data) || pm.Attachments[j].Name != a.Name {
					t.Fatalf("attachment %s does not round-trip", a.Name)
				}
			}
		case "html":
			if pm.HTML == "" || pm.Text == "" {
				t.Error("html message lacks an alternative")
			}
		case "nested-eml":
			if d := emlDepth(t, gm.Raw); d < 3 || d > 7 {
				t.Errorf("nested .eml depth %d, want 2-6 attached levels", d-1)
			}
		case "smime-signed":
			checkSigned(t, pm)
		case "smime-encrypted":
			if pm.SMIME != "encrypted" || len(pm.Attachments) != 1 || pm.Attachments[0].Name != "smime.p7m" {
				t.Fatalf("encrypted: %+v", pm)
			}
			var ci struct {
				OID     asn1.ObjectIdentifier
				Content asn1.RawValue
			}
			if _, err := asn1.Unmarshal(pm.Attachments[0].Data, &ci); err != nil || !ci.OID.Equal(oidEnvelopedData) {
				t.Fatalf("p7m is not a CMS EnvelopedData: %v %v", err, ci.OID)
			}
		}
	}
	for _, want := range []string{"application/pdf", "image/jpeg", "image/png", "message/rfc822", "application/pkcs7-signature", "application/pkcs7-mime",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "text/calendar"} {
		if !types[want] {
			t.Errorf("no %s attachment in %d messages", want, 4*len(GeneratorKinds))
		}
	}
}

// emlDepth counts message levels: 1 for a message without attached messages.
func emlDepth(t *testing.T, raw []byte) int {
	pm, err := ParseMIME(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range pm.Attachments {
		if a.Message {
			return 1 + emlDepth(t, a.Data)
		}
	}
	return 1
}

// checkSigned checks the structure of the detached SignedData and its
// embedded certificate (the signature itself is not verified).
func checkSigned(t *testing.T, pm *ParsedMessage) {
	t.Helper()
	if pm.SMIME != "signed" || len(pm.Attachments) != 1 || pm.Attachments[0].Name != "smime.p7s" || pm.Text == "" {
		t.Fatalf("signed: smime=%q attachments=%d", pm.SMIME, len(pm.Attachments))
	}
	var ci struct {
		OID     asn1.ObjectIdentifier
		Content asn1.RawValue
	}
	if _, err := asn1.Unmarshal(pm.Attachments[0].Data, &ci); err != nil || !ci.OID.Equal(oidSignedData) {
		t.Fatalf("p7s is not a CMS SignedData: %v", err)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatalf("SignedData: %v", err)
	}
	cert, err := x509.ParseCertificate(sd.Certificates.Bytes)
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	if len(sd.SignerInfos) != 1 || !strings.HasPrefix(cert.EmailAddresses[0], "signer@") {
		t.Fatalf("signer infos: %d", len(sd.SignerInfos))
	}
}

func TestBuildMIMERoundTrip(t *testing.T) {
	raw, err := BuildMIME(Compose{From: "a@x.test", To: []string{"b@x.test"}, Subject: "Grüße", Text: "hällo", HTML: "<b>hällo</b>",
		Attachments: []MailAttachment{{Name: "r.bin", ContentType: "application/octet-stream", Data: []byte{0, 1, 2, 255}}, {Name: "pic.png", ContentType: "image/png", Data: []byte("png"), Inline: true, ContentID: "pic1"}}})
	if err != nil {
		t.Fatal(err)
	}
	pm, err := ParseMIME(raw)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Subject != "Grüße" || !strings.Contains(pm.Text, "hällo") || pm.HTML != "<b>hällo</b>" || len(pm.Attachments) != 2 ||
		!bytes.Equal(pm.Attachments[0].Data, []byte{0, 1, 2, 255}) || !pm.Attachments[1].Inline || pm.Attachments[1].ContentID != "pic1" {
		t.Fatalf("%+v", pm)
	}
}
