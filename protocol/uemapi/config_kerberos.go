package uemapi

import (
	"fmt"
	"strings"
)

// KerberosConfig is Kerberos constrained delegation (KRB-03 to KRB-05,
// KDC-05, KDC-06).
type KerberosConfig struct {
	UseKeytab bool   `json:"use_keytab"`
	Keytab    []byte `json:"keytab,omitempty"` // base64 in JSON
	Realm     string `json:"realm,omitempty"`
	// ServicePrincipal starts with "HTTP/" (KRB-04).
	ServicePrincipal string `json:"service_principal,omitempty"`
	Password         string `json:"password,omitempty"`
	// KDCs is "host[:port];…", empty = discover through DNS (KRB-05).
	KDCs             string      `json:"kdcs,omitempty"`
	DNSDiscovery     bool        `json:"dns_discovery"` // default on (KDC-05)
	AdditionalRealms []RealmKDCs `json:"additional_realms,omitempty"`
	// KDCProxy is "Enable Kerberos Proxy": the gateway serves MS-KKDCP at
	// /KdcProxy for devices (KKD-01). Off by default, as in the seeds.
	KDCProxy bool `json:"kdc_proxy,omitempty"`
	// KDCProxyRealms are realms, besides the gateway's own and the
	// additional_realms rows, that the KDC proxy relays to, their KDCs
	// found through DNS (needs dns_discovery). The proxy refuses others.
	KDCProxyRealms []string `json:"kdc_proxy_realms,omitempty"`
}

// RealmKDCs is one Additional Trusted Realms row (KDC-06).
type RealmKDCs struct {
	Realm string `json:"realm"`
	KDCs  string `json:"kdcs"` // "host[:port];…", default port 88
}

func (k *KerberosConfig) validate() error {
	const f = "kerberos"
	if k.UseKeytab {
		if len(k.Keytab) == 0 {
			return FieldError(f+".keytab", "is required with use_keytab")
		}
	} else {
		switch {
		case k.Realm == "":
			return FieldError(f+".realm", "is required without a keytab")
		case !strings.HasPrefix(k.ServicePrincipal, "HTTP/") || len(k.ServicePrincipal) == len("HTTP/"):
			return FieldError(f+".service_principal", `must start with "HTTP/"`)
		case k.Password == "":
			return FieldError(f+".password", "is required without a keytab")
		}
	}
	if err := validateHostList(f+".kdcs", k.KDCs, false, true); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, r := range k.AdditionalRealms {
		rf := indexed(f+".additional_realms", i)
		if r.Realm == "" {
			return FieldError(rf+".realm", "is required")
		}
		if seen[strings.ToUpper(r.Realm)] { // realm names are not case-sensitive (KDC-06)
			return FieldError(rf+".realm", "duplicate realm %q", r.Realm)
		}
		seen[strings.ToUpper(r.Realm)] = true
		if r.KDCs == "" {
			return FieldError(rf+".kdcs", "is required")
		}
		if err := validateHostList(rf+".kdcs", r.KDCs, false, true); err != nil {
			return err
		}
	}
	if k.Realm != "" {
		seen[strings.ToUpper(k.Realm)] = true
	}
	for i, r := range k.KDCProxyRealms {
		rf := indexed(f+".kdc_proxy_realms", i)
		if err := validateRealmName(r); err != nil {
			return FieldError(rf, "%v", err)
		}
		if seen[strings.ToUpper(r)] {
			return FieldError(rf, "realm %q is already the gateway's realm or an additional realm", r)
		}
		seen[strings.ToUpper(r)] = true
		if !k.DNSDiscovery {
			return FieldError(rf, "realm %q needs dns_discovery: the proxy finds its KDCs through DNS", r)
		}
	}
	return nil
}

// validateRealmName accepts a realm that DNS SRV discovery can look up:
// letters, digits, '.', '-' and '_', at most 255 characters.
func validateRealmName(r string) error {
	if r == "" || len(r) > 255 {
		return fmt.Errorf("must be 1-255 characters")
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("contains %q; a realm here is letters, digits, '.', '-' and '_'", c)
		}
	}
	return nil
}

func validateSPNList(f, list, prefix string) error {
	for _, s := range splitList(list) {
		if !strings.Contains(s, "/") || strings.ContainsAny(s, " \t") {
			return FieldError(f, "SPN %q must look like service/host", s)
		}
		if prefix != "" && !strings.HasPrefix(s, prefix) {
			return FieldError(f, "SPN %q must start with %q", s, prefix)
		}
	}
	return nil
}
