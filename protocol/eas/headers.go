package eas

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Content types of ActiveSync request and response bodies (MS-ASHTTP).
const (
	ContentTypeWBXML     = "application/vnd.ms-sync.wbxml"
	ContentTypeMultipart = "application/vnd.ms-sync.multipart"
	ContentTypeMessage   = "message/rfc822" // SendMail and friends in 12.1
)

// Header names as MS-ASHTTP spells them. Header names are case-insensitive
// (RFC 9110), so net/http's canonical spelling ("Ms-Asprotocolversion") is
// what this package writes; it reads either, since maps built by hand may
// hold the specification's spelling.
const (
	HeaderProtocolVersion  = "MS-ASProtocolVersion"
	HeaderPolicyKey        = "X-MS-PolicyKey"
	HeaderAcceptMultiPart  = "MS-ASAcceptMultiPart"
	HeaderProtocolVersions = "MS-ASProtocolVersions"
	HeaderProtocolCommands = "MS-ASProtocolCommands"
	HeaderServerActiveSync = "MS-Server-ActiveSync"
)

// Errors that header failures wrap, for errors.Is.
var (
	ErrMissingHeader = errors.New("missing header")
	ErrInvalidHeader = errors.New("invalid header")
)

// maxUserAgent bounds the User-Agent kept in a RequestInfo; the rest of a
// longer one tells a gateway nothing it needs.
const maxUserAgent = 256

// RequestInfo is what a gateway needs to know about an ActiveSync POST: the
// query, and the protocol version, policy key and multipart choice in
// effect whichever form carried them. It never holds credentials.
type RequestInfo struct {
	Query           *Query
	Version         Version
	PolicyKey       uint32 // meaningful when HasPolicyKey
	HasPolicyKey    bool   // absent on a device's first Provision
	AcceptMultiPart bool
	UserAgent       string
	// AcceptLanguage is the first language of Accept-Language ("fr-FR"),
	// what an iOS device's language is when it has sent no DeviceInformation.
	AcceptLanguage string

	HasAuthorization bool
	// AuthScheme is the scheme of the Authorization header when it is a
	// well-known one ("Basic", "Bearer", "Negotiate", "NTLM", "Digest"), else empty:
	// an unknown value might be a bare credential.
	AuthScheme string
}

// ParseRequest reads an ActiveSync POST. With the plain query the version,
// policy key and multipart flag come from the MS-ASProtocolVersion,
// X-MS-PolicyKey and MS-ASAcceptMultiPart headers; with the base64 query
// they come from the query and those headers are ignored, as MS-ASHTTP
// 2.2.1.1.2.6 and 2.2.1.1.2.8 say they should not be sent.
func ParseRequest(r *http.Request) (*RequestInfo, error) {
	if r == nil || r.URL == nil {
		return nil, errors.New("eas: parse request: no request URL")
	}
	q, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err // a *QueryError, which already says where
	}
	ri := &RequestInfo{Query: q}
	h := lookupHeaders(r.Header)
	if q.Base64 {
		ri.Version = q.Version
		ri.PolicyKey, ri.HasPolicyKey = q.PolicyKey, q.HasPolicyKey
		ri.AcceptMultiPart = q.AcceptMultiPart
	} else if err := ri.fromHeaders(h); err != nil {
		return nil, fmt.Errorf("eas: parse request: %w", err)
	}
	if ua := h.values("User-Agent"); len(ua) > 0 {
		ri.UserAgent = ua[0]
		if len(ri.UserAgent) > maxUserAgent {
			ri.UserAgent = ri.UserAgent[:maxUserAgent]
		}
	}
	if al := h.values("Accept-Language"); len(al) > 0 {
		first, _, _ := strings.Cut(al[0], ",")
		first, _, _ = strings.Cut(first, ";")
		if first = strings.TrimSpace(first); len(first) <= 35 && first != "*" {
			ri.AcceptLanguage = first
		}
	}
	if auth := h.values("Authorization"); len(auth) > 0 {
		ri.HasAuthorization = true
		ri.AuthScheme = authScheme(auth[0])
	}
	return ri, nil
}

func (ri *RequestInfo) fromHeaders(h headerLookup) error {
	v, ok, err := singleHeader(h, HeaderProtocolVersion)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w %s: the plain query needs it", ErrMissingHeader, HeaderProtocolVersion)
	}
	if ri.Version, err = parseVersion(v); err != nil {
		return fmt.Errorf("%w %s: %w", ErrInvalidHeader, HeaderProtocolVersion, err)
	}

	if v, ok, err = singleHeader(h, HeaderPolicyKey); err != nil {
		return err
	} else if ok {
		// MS-ASPROV 2.2.2.42: a policy key is a 32-bit unsigned integer.
		key, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fmt.Errorf("%w %s: %q is not a 32-bit unsigned integer", ErrInvalidHeader, HeaderPolicyKey, clip(v))
		}
		ri.PolicyKey, ri.HasPolicyKey = uint32(key), true
	}

	if v, ok, err = singleHeader(h, HeaderAcceptMultiPart); err != nil {
		return err
	} else if ok {
		switch v {
		case "T":
			ri.AcceptMultiPart = true
		case "F":
		default:
			return fmt.Errorf("%w %s: %q, want T or F", ErrInvalidHeader, HeaderAcceptMultiPart, clip(v))
		}
	}
	return nil
}

// String summarises the request for humans; it leaves out credentials.
func (ri *RequestInfo) String() string {
	var sb strings.Builder
	q := ri.Query
	if q == nil {
		q = &Query{}
	}
	fmt.Fprintf(&sb, "%s user=%q device=%q type=%q version=%s", q.Cmd, q.User, q.DeviceID, q.DeviceType, ri.Version)
	if ri.HasPolicyKey {
		fmt.Fprintf(&sb, " policykey=%d", ri.PolicyKey)
	}
	if q.Base64 {
		sb.WriteString(" base64")
	}
	if ri.AcceptMultiPart {
		sb.WriteString(" multipart")
	}
	switch {
	case ri.AuthScheme != "":
		sb.WriteString(" auth=" + ri.AuthScheme)
	case ri.HasAuthorization:
		sb.WriteString(" auth=other")
	}
	return sb.String()
}

// LogValue makes slog print the same fields as String, as attributes.
func (ri *RequestInfo) LogValue() slog.Value {
	q := ri.Query
	if q == nil {
		q = &Query{}
	}
	attrs := []slog.Attr{
		slog.String("cmd", string(q.Cmd)),
		slog.String("user", q.User),
		slog.String("device_id", q.DeviceID),
		slog.String("device_type", q.DeviceType),
		slog.String("version", ri.Version.String()),
		slog.Bool("base64", q.Base64),
	}
	if ri.HasPolicyKey {
		attrs = append(attrs, slog.Uint64("policy_key", uint64(ri.PolicyKey)))
	}
	if ri.UserAgent != "" {
		attrs = append(attrs, slog.String("user_agent", ri.UserAgent))
	}
	if ri.HasAuthorization {
		attrs = append(attrs, slog.String("auth_scheme", cmp.Or(ri.AuthScheme, "other")))
	}
	return slog.GroupValue(attrs...)
}

// authScheme returns the canonical name of a well-known scheme, else "".
func authScheme(v string) string {
	scheme, _, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return "" // no credentials after it: the whole value may be one
	}
	for _, s := range [...]string{"Basic", "Bearer", "Negotiate", "NTLM", "Digest"} {
		if asciiEqualFold(scheme, s) {
			return s
		}
	}
	return ""
}

// Options is what an OPTIONS response advertises (MS-ASHTTP 2.2.4).
type Options struct {
	Versions []Version
	Commands []Command
	// UnknownVersions and UnknownCommands keep advertised entries this
	// package does not model ("2.5", "GetHierarchy"), in order, so that a
	// rewriting gateway can log what it drops.
	UnknownVersions []string
	UnknownCommands []string
	Server          string // MS-Server-ActiveSync, if present
}

// maxOptionsEntries bounds each advertised list; Exchange sends about 25
// commands, so more than this is an attack or a bug.
const maxOptionsEntries = 128

// OptionsHeaders builds the headers of an OPTIONS response advertising the
// given versions and commands, in the order given; invalid entries are left
// out. MS-Server-ActiveSync is set to the newest version.
func OptionsHeaders(versions []Version, commands []Command) http.Header {
	var vs, cs []string
	var newest Version
	for _, v := range versions {
		if v.Valid() {
			vs = append(vs, v.String())
			newest = max(newest, v)
		}
	}
	for _, c := range commands {
		if c.Valid() {
			cs = append(cs, string(c))
		}
	}
	h := http.Header{}
	h.Set("Allow", "OPTIONS,POST")
	h.Set(HeaderProtocolVersions, strings.Join(vs, ","))
	h.Set(HeaderProtocolCommands, strings.Join(cs, ","))
	if newest.Valid() {
		h.Set(HeaderServerActiveSync, newest.String())
	}
	return h
}

// ParseOptionsHeaders reads the headers of an OPTIONS response, such as one
// from an upstream server that a gateway rewrites to limit the version.
// Entries are comma-separated and may be spread over several header lines.
func ParseOptionsHeaders(h http.Header) (*Options, error) {
	o := &Options{}
	if v := headerValues(h, HeaderServerActiveSync); len(v) > 0 {
		o.Server = strings.TrimSpace(v[0])
	}
	err := eachOption(h, HeaderProtocolVersions, func(s string) {
		if v, err := parseVersion(s); err == nil {
			o.Versions = append(o.Versions, v)
		} else {
			o.UnknownVersions = append(o.UnknownVersions, s)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("eas: parse OPTIONS headers: %w", err)
	}
	err = eachOption(h, HeaderProtocolCommands, func(s string) {
		if c := Command(s); c.Valid() {
			o.Commands = append(o.Commands, c)
		} else {
			o.UnknownCommands = append(o.UnknownCommands, s)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("eas: parse OPTIONS headers: %w", err)
	}
	return o, nil
}

// eachOption calls fn with every non-empty, trimmed entry of a list header.
func eachOption(h http.Header, name string, fn func(string)) error {
	lines := headerValues(h, name)
	if lines == nil {
		return fmt.Errorf("%w %s", ErrMissingHeader, name)
	}
	n := 0
	for _, line := range lines {
		for entry := range strings.SplitSeq(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			if n++; n > maxOptionsEntries {
				return fmt.Errorf("%w %s: more than %d entries", ErrInvalidHeader, name, maxOptionsEntries)
			}
			fn(entry)
		}
	}
	return nil
}

// headerValues returns the values of a header whatever the spelling of its
// key: net/http canonicalises what it reads off the wire, while headers
// built in code (OptionsHeaders, tests) may keep the specification's.
func headerValues(h http.Header, name string) []string {
	return lookupHeaders(h).values(name)
}

// headerLookup finds headers by name whatever the spelling of their keys.
// The scan over every key for other spellings runs only when some key is
// not canonical: net/http's are, so a parsed request costs map lookups.
type headerLookup struct {
	h      http.Header
	folded bool // some key is not in canonical form
}

func lookupHeaders(h http.Header) headerLookup {
	for k := range h {
		// CanonicalMIMEHeaderKey returns a canonical key as it is, without
		// allocating.
		if textproto.CanonicalMIMEHeaderKey(k) != k {
			return headerLookup{h: h, folded: true}
		}
	}
	return headerLookup{h: h}
}

func (l headerLookup) values(name string) []string {
	canonical := textproto.CanonicalMIMEHeaderKey(name)
	vals := l.h[canonical]
	if !l.folded {
		return vals
	}
	if name != canonical {
		vals = append(vals[:len(vals):len(vals)], l.h[name]...)
	}
	if vals != nil {
		return vals
	}
	for k, v := range l.h {
		if k != canonical && k != name && asciiEqualFold(k, name) {
			vals = append(vals[:len(vals):len(vals)], v...)
		}
	}
	return vals
}

// singleHeader returns a header that may appear at most once.
func singleHeader(h headerLookup, name string) (string, bool, error) {
	vals := h.values(name)
	switch len(vals) {
	case 0:
		return "", false, nil
	case 1:
		return strings.TrimSpace(vals[0]), true, nil
	}
	return "", false, fmt.Errorf("%w %s: sent %d times", ErrInvalidHeader, name, len(vals))
}
