package exchange

import (
	"crypto/x509"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// ResolveRecipients status values (MS-ASCMD 2.2.3.177.14): global, per
// Response, and per Certificates.
const (
	resolveOK            = 1
	resolveProtocolErr   = 5
	resolveResolved      = 1
	resolveAmbiguous     = 2 // suggestions returned
	resolveAmbiguousPart = 3 // partial list of suggestions
	resolveNotFound      = 4
	certsOK              = 1
	certsNone            = 7 // the recipient has no valid S/MIME certificate
	galType              = "1"
	maxResolveTo         = 1000
	defaultAmbiguous     = 5
)

// cmdResolveRecipients resolves each To against the mailbox users: an
// exact SMTP address or logon name resolves (Status 1); a prefix of
// several users is ambiguous (Status 2, at most MaxAmbiguousRecipients
// suggestions, 3 when more were left out); nothing matches is Status 4.
// Recipients are GAL entries (Type 1). Certificates asked for
// (CertificateRetrieval 2 or 3) are answered Status 7: the fake's users
// have none.
func (s *Server) cmdResolveRecipients(rc *reqCtx) {
	req := s.decodeTree(rc, "ResolveRecipients:ResolveRecipients")
	if req == nil {
		return
	}
	tos := kids(req, "ResolveRecipients:To")
	if len(tos) == 0 || len(tos) > maxResolveTo {
		s.writeTree(rc, el("ResolveRecipients:ResolveRecipients", txt("ResolveRecipients:Status", itoa(resolveProtocolErr))))
		return
	}
	opts := kid(req, "ResolveRecipients:Options")
	certs := text(opts, "ResolveRecipients:CertificateRetrieval")
	maxAmb := defaultAmbiguous
	if v, err := strconv.Atoi(text(opts, "ResolveRecipients:MaxAmbiguousRecipients")); err == nil && v >= 0 {
		maxAmb = v
	}
	out := el("ResolveRecipients:ResolveRecipients", txt("ResolveRecipients:Status", itoa(resolveOK)))
	for _, to := range tos {
		q := strings.TrimSpace(to.Text())
		st, users := resolveNotFound, []User(nil)
		if u, ok := s.lookupUser(q); ok {
			st, users = resolveResolved, []User{u}
		} else if m := s.galMatches(q); len(m) == 1 {
			st, users = resolveResolved, m
		} else if len(m) > 1 {
			st, users = resolveAmbiguous, m
			if len(m) > maxAmb {
				st, users = resolveAmbiguousPart, m[:maxAmb]
			}
		}
		r := el("ResolveRecipients:Response", txt("ResolveRecipients:To", to.Text()), txt("ResolveRecipients:Status", itoa(st)),
			txt("ResolveRecipients:RecipientCount", itoa(len(users))))
		for _, u := range users {
			rec := el("ResolveRecipients:Recipient", txt("ResolveRecipients:Type", galType),
				txt("ResolveRecipients:DisplayName", u.DisplayName), txt("ResolveRecipients:EmailAddress", u.Email))
			if certs == "2" || certs == "3" {
				rec.Children = append(rec.Children, el("ResolveRecipients:Certificates",
					txt("ResolveRecipients:Status", itoa(certsNone)), txt("ResolveRecipients:CertificateCount", "0")))
			}
			r.Children = append(r.Children, rec)
		}
		out.Children = append(out.Children, r)
	}
	s.writeTree(rc, out)
}

// ValidateCert status values (MS-ASCMD 2.2.3.177.20).
const (
	certValid         = 1
	certProtocolErr   = 2
	certUntrusted     = 4
	certNotForSigning = 6
	certExpired       = 7
	certUnknownError  = 17
	maxValidateCerts  = 100
)

// cmdValidateCert checks each Certificate (base64 text, or opaque DER):
// undecodable is 17, outside its validity period 7, without digital
// signature use or an e-mail protection purpose 6, not chaining to
// Config.TrustedCAs (with the request's CertificateChain as
// intermediates) 4, else 1. CheckCRL is accepted; the fake has no CRLs.
func (s *Server) cmdValidateCert(rc *reqCtx) {
	req := s.decodeTree(rc, "ValidateCert:ValidateCert")
	if req == nil {
		return
	}
	list := kids(kid(req, "ValidateCert:Certificates"), "ValidateCert:Certificate")
	if len(list) == 0 || len(list) > maxValidateCerts {
		s.writeTree(rc, el("ValidateCert:ValidateCert", txt("ValidateCert:Status", itoa(certProtocolErr))))
		return
	}
	inter := x509.NewCertPool()
	for _, n := range kids(kid(req, "ValidateCert:CertificateChain"), "ValidateCert:Certificate") {
		if c, err := x509.ParseCertificate(certBytes(n)); err == nil {
			inter.AddCert(c)
		}
	}
	out := el("ValidateCert:ValidateCert", txt("ValidateCert:Status", itoa(certValid)))
	for _, n := range list {
		out.Children = append(out.Children, el("ValidateCert:Certificate", txt("ValidateCert:Status", itoa(s.certStatus(certBytes(n), inter)))))
	}
	s.writeTree(rc, out)
}

func certBytes(n *wbxml.Node) []byte {
	if n.Opaque {
		return n.Content
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(n.Text()))
	if err != nil {
		return nil
	}
	return b
}

func (s *Server) certStatus(der []byte, inter *x509.CertPool) int {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return certUnknownError
	}
	now := s.now()
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return certExpired
	}
	emailOK := len(c.ExtKeyUsage) == 0
	for _, u := range c.ExtKeyUsage {
		emailOK = emailOK || u == x509.ExtKeyUsageEmailProtection || u == x509.ExtKeyUsageAny
	}
	if (c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0) || !emailOK {
		return certNotForSigning
	}
	if s.cfg.TrustedCAs == nil {
		return certUntrusted
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: s.cfg.TrustedCAs, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		return certUntrusted
	}
	return certValid
}
