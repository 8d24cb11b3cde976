package attachments

import (
	"fmt"
	"net/mail"
	"path"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Option is what the gateway does to attachments on their way to a device
// (ATT-03). The zero value delivers as is, which is also what a disabled
// attachment control does (ATT-01).
type Option uint8

// Options.
const (
	DeliverAsIs Option = iota
	Remove
	Encrypt   // Open Only with Docs@Work and Protect with Encryption
	SecureApp // Open with Secure Email App
)

func (o Option) String() string {
	switch o {
	case Remove:
		return "remove"
	case Encrypt:
		return "encrypt"
	case SecureApp:
		return "secure_email_app"
	}
	return "deliver_as_is"
}

// OptionFromUEM converts the UEM's option name.
func OptionFromUEM(o uemapi.AttachmentOption) (Option, error) {
	switch o {
	case uemapi.AttachRemove:
		return Remove, nil
	case uemapi.AttachEncrypt:
		return Encrypt, nil
	case uemapi.AttachDeliverAsIs, "":
		return DeliverAsIs, nil
	case uemapi.AttachSecureApp:
		return SecureApp, nil
	}
	return 0, fmt.Errorf("attachments: unknown attachment option %q", o)
}

// Policy is attachment control as configured on the UEM, ready for use:
// one option per client class, the exclusion list as a set, and the work
// domains that tell work recipients from others on the way out.
type Policy struct {
	enabled     bool
	options     [3]Option // by ClientClass
	exclusion   map[string]bool
	workDomains []string
}

// NewPolicy builds a Policy. An empty exclusion list means
// uemapi.DefaultExclusionList (ATT-12, INC-04). Work domains are mail
// domains ("example.com"); a recipient in one of them or a subdomain is a
// work recipient (ATT-14; the seeds do not say how the product decides).
// The support matrix (ATT-04) is the UEM's to enforce (uemapi
// GatewayConfig.Validate); the Policy applies whatever it is given.
func NewPolicy(ac uemapi.AttachmentControl, workDomains []string) (*Policy, error) {
	p := &Policy{enabled: ac.Enabled, exclusion: map[string]bool{}}
	for i, o := range []uemapi.AttachmentOption{ClassOther: ac.OtherPlatforms, ClassIOSNative: ac.IOSNative, ClassSecureApp: ac.SecureApps} {
		opt, err := OptionFromUEM(o)
		if err != nil {
			return nil, err
		}
		p.options[i] = opt
	}
	list := ac.ExclusionList
	if len(list) == 0 {
		list = uemapi.DefaultExclusionList
	}
	for _, e := range list {
		if e = normExt(e); e != "" {
			p.exclusion[e] = true
		}
	}
	for _, d := range workDomains {
		d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "@."))
		if d != "" {
			p.workDomains = append(p.workDomains, d)
		}
	}
	return p, nil
}

// ParseExclusionList splits the UEM's comma-separated File Name Exclusion
// List (ATT-12); "pdf, .DOCX,,txt" gives pdf, docx, txt.
func ParseExclusionList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if e := normExt(f); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func normExt(e string) string { return strings.ToLower(strings.TrimLeft(strings.TrimSpace(e), ".")) }

// Enabled reports whether attachment control is on.
func (p *Policy) Enabled() bool { return p != nil && p.enabled }

// OptionFor is the option for a client class; DeliverAsIs when attachment
// control is disabled (ATT-01).
func (p *Policy) OptionFor(c ClientClass) Option {
	if !p.Enabled() || int(c) >= len(p.options) {
		return DeliverAsIs
	}
	return p.options[c]
}

// Excluded reports whether a file name's extension is on the exclusion
// list. The list matters only under Encrypt (ATT-13).
func (p *Policy) Excluded(name string) bool {
	if p == nil {
		return false
	}
	ext := path.Ext(strings.TrimSpace(name))
	return ext != "" && p.exclusion[normExt(ext)]
}

// IsWork reports whether an address (bare or "Name <addr>") is a work
// recipient.
func (p *Policy) IsWork(addr string) bool {
	if p == nil {
		return false
	}
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	dom := strings.ToLower(strings.TrimRight(strings.TrimSpace(addr[at+1:]), ">."))
	for _, d := range p.workDomains {
		if dom == d || strings.HasSuffix(dom, "."+d) {
			return true
		}
	}
	return false
}
