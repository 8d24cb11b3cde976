package uemapi

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
)

// DeviceAuthMode is the device authentication mode (DA-01).
type DeviceAuthMode string

// Device authentication modes.
const (
	DeviceAuthPassThrough DeviceAuthMode = "pass_through"
	DeviceAuthGroupCert   DeviceAuthMode = "group_certificate"
	DeviceAuthIdentity    DeviceAuthMode = "identity_certificate"
	DeviceAuthFrontEnd    DeviceAuthMode = "trusted_front_end"
)

// DeviceAuth is device authentication (DA-01 to DA-12).
type DeviceAuth struct {
	Mode DeviceAuthMode `json:"mode"`
	// TrustedCertsPEM: one upload, several concatenated PEM certificates
	// allowed (DA-06); required for group and identity certificate modes.
	TrustedCertsPEM string `json:"trusted_certs_pem,omitempty"`
	CheckCRL        bool   `json:"check_crl,omitempty"` // DA-08
	// FieldMapping is the ordered Certificate Field Mapping (DA-11).
	FieldMapping []FieldMapping `json:"field_mapping,omitempty"`
}

// FieldMapping maps a certificate field to the user UPN or DN (DA-11).
type FieldMapping struct {
	Target string `json:"target"` // "user_upn" or "user_dn"
	Field  string `json:"field"`  // one of CertificateFields
}

// CertificateFields are the certificate fields a mapping row can name
// (DA-11, DA-12): the subject's common name, the whole subject DN, and the
// subject alternative names (RFC 822 e-mail, DNS name, Microsoft UPN
// other-name, URI).
var CertificateFields = []string{"subject_cn", "subject", "rfc822_name", "dns_name", "subject_alt_name_upn", "uri"}

func (c *GatewayConfig) validateDeviceAuth() error {
	d := &c.DeviceAuth
	const f = "device_auth"
	switch d.Mode {
	case DeviceAuthPassThrough:
		if c.AppTunnel.Enabled {
			return FieldError(f+".mode", "pass_through device authentication is for ActiveSync-only gateways")
		}
	case DeviceAuthGroupCert, DeviceAuthIdentity:
		if d.TrustedCertsPEM == "" {
			return FieldError(f+".trusted_certs_pem", "a trusted certificate is required")
		}
	case DeviceAuthFrontEnd:
		// The front end's header is only as good as the CA that issued the
		// certificate in it: without one, anyone who can reach the gateway
		// from a front-end address could claim any user.
		if d.TrustedCertsPEM == "" {
			return FieldError(f+".trusted_certs_pem", "a trusted certificate is required to verify the certificate the front end passes")
		}
	default:
		return FieldError(f+".mode", "must be pass_through, group_certificate, identity_certificate or trusted_front_end")
	}
	if d.TrustedCertsPEM != "" {
		if err := validatePEMCerts(d.TrustedCertsPEM); err != nil {
			return FieldError(f+".trusted_certs_pem", "%v", err)
		}
	}
	for i, m := range d.FieldMapping {
		if m.Target != "user_upn" && m.Target != "user_dn" {
			return FieldError(indexed(f+".field_mapping", i)+".target", "must be user_upn or user_dn")
		}
		if !inStrings(m.Field, CertificateFields) {
			return FieldError(indexed(f+".field_mapping", i)+".field", "must be one of %s", strings.Join(CertificateFields, ", "))
		}
	}
	if c.usesKerberos() && d.Mode != DeviceAuthIdentity {
		return FieldError(f+".mode", "Kerberos server authentication needs identity_certificate")
	}
	return nil
}

func validatePEMCerts(s string) error {
	rest := []byte(s)
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %d is %q, not CERTIFICATE", n+1, b.Type)
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("certificate %d: %v", n+1, err)
		}
		n++
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return fmt.Errorf("must be one or more PEM certificates")
	}
	return nil
}
