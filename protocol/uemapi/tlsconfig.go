package uemapi

import (
	"crypto/tls"
	"strings"
)

// TLSSettings are the gateway's TLS settings (TLS items). The zero value
// is the seeds' defaults: TLS 1.2 and up towards devices with Go's default
// cipher suites, no strict verification of ActiveSync servers, no SNI
// towards them, HSTS off.
type TLSSettings struct {
	// IncomingMinVersion is the oldest protocol a device may use: "1.2"
	// (default, TLS-01) or "1.3"; "1.0" and "1.1" only when chosen.
	IncomingMinVersion string `json:"incoming_min_version,omitempty"`
	// IncomingCipherSuites is the Custom Configuration's selected list by
	// IANA name (TLS-02); empty is Use Default.
	IncomingCipherSuites []string `json:"incoming_cipher_suites,omitempty"`
	// StrictOutgoing verifies ActiveSync servers' certificates and host
	// names (TLS-04, TLS-05); off by default.
	StrictOutgoing bool `json:"strict_outgoing,omitempty"`
	// CustomTrustPEM adds CAs to the system trust store for strict TLS.
	CustomTrustPEM string `json:"custom_trust_pem,omitempty"`
	// OutgoingSNI sends the server name towards ActiveSync servers
	// (TLS-07: off by default).
	OutgoingSNI bool `json:"outgoing_sni,omitempty"`
	// OutgoingMinVersion and OutgoingCipherSuites are the Outgoing SSL
	// Configuration's protocols and Custom cipher list towards ActiveSync
	// servers, as the incoming ones ("" is 1.2; empty is Use Default).
	OutgoingMinVersion   string   `json:"outgoing_min_version,omitempty"`
	OutgoingCipherSuites []string `json:"outgoing_cipher_suites,omitempty"`
	// HSTS adds Strict-Transport-Security to device responses (TLS-13:
	// off by default), with preload when HSTSPreload is set.
	HSTS        bool `json:"hsts,omitempty"`
	HSTSPreload bool `json:"hsts_preload,omitempty"`
}

// TLSVersion maps "1.0" … "1.3" ("" is 1.2) to crypto/tls's constant.
func TLSVersion(s string) (uint16, bool) {
	switch s {
	case "", "1.2":
		return tls.VersionTLS12, true
	case "1.3":
		return tls.VersionTLS13, true
	case "1.1":
		return tls.VersionTLS11, true
	case "1.0":
		return tls.VersionTLS10, true
	}
	return 0, false
}

// CipherSuiteIDs resolves IANA cipher suite names Go implements.
func CipherSuiteIDs(names []string) ([]uint16, bool) {
	known := map[string]uint16{}
	for _, c := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[c.Name] = c.ID
	}
	ids := make([]uint16, 0, len(names))
	for _, n := range names {
		id, ok := known[strings.TrimSpace(n)]
		if !ok {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

func (t TLSSettings) validate() error {
	if _, ok := TLSVersion(t.IncomingMinVersion); !ok {
		return FieldError("tls.incoming_min_version", "must be 1.0, 1.1, 1.2 or 1.3")
	}
	if _, ok := CipherSuiteIDs(t.IncomingCipherSuites); !ok {
		return FieldError("tls.incoming_cipher_suites", "names a cipher suite this gateway does not implement")
	}
	if _, ok := TLSVersion(t.OutgoingMinVersion); !ok {
		return FieldError("tls.outgoing_min_version", "must be 1.0, 1.1, 1.2 or 1.3")
	}
	if _, ok := CipherSuiteIDs(t.OutgoingCipherSuites); !ok {
		return FieldError("tls.outgoing_cipher_suites", "names a cipher suite this gateway does not implement")
	}
	if t.CustomTrustPEM != "" {
		if err := validatePEMCerts(t.CustomTrustPEM); err != nil {
			return FieldError("tls.custom_trust_pem", "%v", err)
		}
	}
	if t.HSTSPreload && !t.HSTS {
		return FieldError("tls.hsts_preload", "needs hsts")
	}
	return nil
}
