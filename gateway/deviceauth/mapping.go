package deviceauth

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// oidUPN is Microsoft's User Principal Name other-name (1.3.6.1.4.1.311.20.2.3).
var oidUPN = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}

var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

// MapIdentity applies the ordered Certificate Field Mapping (DA-11): for
// each target the first row whose field is present in the certificate
// wins. The realm comes from the DN's DC components, else from the UPN's
// domain (DA-12).
func MapIdentity(c *x509.Certificate, rows []uemapi.FieldMapping, id *Identity) {
	if len(rows) == 0 {
		rows = []uemapi.FieldMapping{{Target: "user_upn", Field: "subject_alt_name_upn"}, {Target: "user_upn", Field: "rfc822_name"}, {Target: "user_dn", Field: "subject"}}
	}
	for _, row := range rows {
		v := Field(c, row.Field)
		if v == "" {
			continue
		}
		switch row.Target {
		case "user_upn":
			if id.UPN == "" {
				id.UPN = v
			}
		case "user_dn":
			if id.DN == "" {
				id.DN = v
			}
		}
	}
	id.Realm = realmOf(id.DN, id.UPN)
}

// Field returns one certificate field by its configuration name
// (uemapi.CertificateFields), or "" when the certificate has none.
func Field(c *x509.Certificate, name string) string {
	switch name {
	case "subject_cn":
		return c.Subject.CommonName
	case "subject":
		return subjectDN(c)
	case "rfc822_name":
		if len(c.EmailAddresses) > 0 {
			return c.EmailAddresses[0]
		}
	case "dns_name":
		if len(c.DNSNames) > 0 {
			return c.DNSNames[0]
		}
	case "uri":
		if len(c.URIs) > 0 {
			return c.URIs[0].String()
		}
	case "subject_alt_name_upn":
		return upnOf(c)
	}
	return ""
}

// upnOf finds the UPN other-name in the subject alternative names, which
// crypto/x509 does not decode.
func upnOf(c *x509.Certificate) string {
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidSAN) {
			continue
		}
		var seq asn1.RawValue
		if _, err := asn1.Unmarshal(ext.Value, &seq); err != nil {
			return ""
		}
		rest := seq.Bytes
		for len(rest) > 0 {
			var gn asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
				return ""
			}
			if gn.Class != asn1.ClassContextSpecific || gn.Tag != 0 { // otherName
				continue
			}
			var other struct {
				ID    asn1.ObjectIdentifier
				Value asn1.RawValue `asn1:"explicit,tag:0"`
			}
			if _, err := asn1.UnmarshalWithParams(gn.FullBytes, &other, "tag:0"); err != nil || !other.ID.Equal(oidUPN) {
				continue
			}
			var s string
			if _, err := asn1.UnmarshalWithParams(other.Value.Bytes, &s, "utf8"); err == nil {
				return s
			}
		}
	}
	return ""
}

func realmOf(dn, upn string) string {
	var dcs []string
	for _, part := range strings.Split(dn, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, "DC") {
			dcs = append(dcs, v)
		}
	}
	if len(dcs) > 0 {
		return strings.ToUpper(strings.Join(dcs, "."))
	}
	if _, domain, ok := strings.Cut(upn, "@"); ok {
		return strings.ToUpper(domain)
	}
	return ""
}

// attrNames are the RFC 4514 short names of the DN attributes a user's
// certificate carries; crypto/x509 prints DC and UID as OIDs.
var attrNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.11": "OU", "2.5.4.10": "O", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.6": "C",
	"2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
	"1.2.840.113549.1.9.1": "emailAddress",
}

// subjectDN renders the subject most specific first (RFC 4514), with DC
// and UID by name so the realm can be read off the DC components.
func subjectDN(c *x509.Certificate) string {
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(c.RawSubject, &rdns); err != nil {
		return c.Subject.String()
	}
	parts := make([]string, 0, len(rdns))
	for i := len(rdns) - 1; i >= 0; i-- {
		for _, atv := range rdns[i] {
			name, ok := attrNames[atv.Type.String()]
			if !ok {
				name = atv.Type.String()
			}
			v, _ := atv.Value.(string)
			parts = append(parts, name+"="+v)
		}
	}
	return strings.Join(parts, ",")
}
