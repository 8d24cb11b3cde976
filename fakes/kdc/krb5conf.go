package kdc

import (
	"fmt"
	"strings"
)

// Krb5Conf returns a krb5.conf for MIT tools pointing at this KDC (UDP and
// TCP on one port), default realm this one, with lab-friendly defaults.
func (s *Server) Krb5Conf() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[libdefaults]\n  default_realm = %s\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  rdns = false\n", s.cfg.Realm)
	b.WriteString("  default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96\n  default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96\n")
	fmt.Fprintf(&b, "\n[realms]\n  %s = {\n    kdc = %s\n  }\n", s.cfg.Realm, s.Addr())
	return b.String()
}
