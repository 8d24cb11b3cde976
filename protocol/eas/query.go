package eas

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Size limits for a request query.
const (
	// MaxQueryLen bounds the raw query string of either form. It is IIS's
	// default maxQueryString, which sits in front of every Exchange server,
	// so a longer query would be refused upstream anyway. Being a multiple
	// of 4 it also keeps every re-encoded base64 query within the limit.
	MaxQueryLen = 2048

	// MaxValueLen bounds each parameter value in bytes after unescaping.
	// The base64 form stores lengths in one byte; holding the plain form to
	// the same bound lets a valid query be encoded in either form.
	MaxValueLen = 255

	// MaxDeviceIDLen bounds a plain-form DeviceId, whose MS-ASHTTP ABNF is
	// 1*32(ALPHA / DIGIT), and a binary base64-form one (a GUID is 16).
	MaxDeviceIDLen = 32
)

// Errors that parse failures wrap, for errors.Is.
var (
	ErrQueryTooLong       = errors.New("query too long")
	ErrMalformedQuery     = errors.New("malformed query")
	ErrMissingParameter   = errors.New("missing parameter")
	ErrDuplicateParameter = errors.New("duplicate parameter")
	ErrInvalidValue       = errors.New("invalid value")
	ErrUnknownCommand     = errors.New("unknown command")
	ErrUnsupportedVersion = errors.New("unsupported protocol version")
)

// QueryError says which field of a query is wrong and where. Offset counts
// bytes into the raw query for the plain form and into the decoded byte
// sequence for the base64 form (except for Field "base64 text", which
// points into the query text after percent-unescaping), so it can be found
// in a hex dump of either.
type QueryError struct {
	Base64 bool
	Field  string
	Offset int
	Err    error // wraps one of the Err* values
}

// Error names the form, the field and the offset.
func (e *QueryError) Error() string {
	form := "plain"
	if e.Base64 {
		form = "base64"
	}
	return fmt.Sprintf("eas: %s query: %s at offset %d: %v", form, e.Field, e.Offset, e.Err)
}

// Unwrap lets errors.Is find the Err* value.
func (e *QueryError) Unwrap() error { return e.Err }

// Query is the request query of an ActiveSync POST (MS-ASHTTP 2.2.1.1.1),
// parsed from either form.
//
// Fields marked base64-only are carried by headers in the plain form (see
// ParseRequest); Extra exists only in the plain form.
//
// DeviceID is always printable text without control or format characters:
// it keys the device cache and reaches logs and terminals. The base64
// form allows a binary device ID (a GUID); one that is not such text is
// given as upper-case hex of its bytes, as Z-Push and Horde name it, with
// BinaryDeviceID set so that Encode sends the bytes again.
type Query struct {
	Cmd            Command
	User           string
	DeviceID       string
	DeviceType     string
	AttachmentName string
	CollectionID   string
	ItemID         string
	LongID         string
	Occurrence     string
	SaveInSent     bool

	Base64          bool    // the query arrived (or is to be sent) in base64 form
	Version         Version // base64-only
	Locale          uint16  // base64-only: a Windows LCID such as 0x0409
	PolicyKey       uint32  // base64-only, meaningful when HasPolicyKey
	HasPolicyKey    bool    // base64-only
	AcceptMultiPart bool    // base64-only (Options bit 0x02)
	BinaryDeviceID  bool    // base64-only: DeviceID is the hex form of binary bytes

	// Extra holds plain-form parameters this package does not know, one
	// value each, so that a gateway can pass them through untouched.
	Extra url.Values
}

// Plain-form parameter names. Matching is ASCII case-insensitive because
// quoted strings in the MS-ASHTTP ABNF are (RFC 5234 section 2.3); values,
// including command names, are case-sensitive.
const (
	paramCmd            = "Cmd"
	paramUser           = "User"
	paramDeviceID       = "DeviceId"
	paramDeviceType     = "DeviceType"
	paramAttachmentName = "AttachmentName"
	paramCollectionID   = "CollectionId"
	paramItemID         = "ItemId"
	paramLongID         = "LongId"
	paramOccurrence     = "Occurrence"
	paramSaveInSent     = "SaveInSent"
)

// plainParams lists the known plain-form parameters; a parameter's index is
// its bit in the duplicate mask.
var plainParams = [...]string{
	paramCmd, paramUser, paramDeviceID, paramDeviceType, paramAttachmentName,
	paramCollectionID, paramItemID, paramLongID, paramOccurrence, paramSaveInSent,
}

// Base64 command parameter tags (MS-ASHTTP 2.2.1.1.1.1.3); 2 and 5 are
// unassigned.
const (
	tagAttachmentName = 0
	tagCollectionID   = 1
	tagItemID         = 3
	tagLongID         = 4
	tagOccurrence     = 6
	tagOptions        = 7
	tagUser           = 8

	optSaveInSent      = 0x01
	optAcceptMultiPart = 0x02
)

// maxDecoded is the most bytes a MaxQueryLen base64 query decodes to.
const maxDecoded = MaxQueryLen / 4 * 3

// ParseQuery parses the raw (still escaped) query of an ActiveSync request
// in either form, plain text (Cmd=Sync&User=...) or base64, and fails with
// a *QueryError. The plain form needs Cmd, User, DeviceId and DeviceType in
// any order, each once, and only characters RFC 3986 allows in a query.
func ParseQuery(rawQuery string) (*Query, error) {
	plain := isPlain(rawQuery)
	if rawQuery == "" {
		return nil, &QueryError{Field: "query", Err: fmt.Errorf("%w: empty", ErrMalformedQuery)}
	}
	if len(rawQuery) > MaxQueryLen {
		return nil, &QueryError{Base64: !plain, Field: "query", Offset: MaxQueryLen,
			Err: fmt.Errorf("%w: %d bytes, limit %d", ErrQueryTooLong, len(rawQuery), MaxQueryLen)}
	}
	if plain {
		return parsePlain(rawQuery)
	}
	return parseBase64(rawQuery)
}

// isPlain tells the forms apart: the base64 alphabet has no '&', and its
// '=' only pads the end, while a plain query needs Name=Value.
func isPlain(raw string) bool {
	return strings.ContainsAny(strings.TrimRight(raw, "="), "&=")
}

func parsePlain(raw string) (*Query, error) {
	if i, why := badQueryByte(raw, isQueryChar); i >= 0 {
		return nil, &QueryError{Field: "query", Offset: i, Err: fmt.Errorf("%w: %s", ErrMalformedQuery, why)}
	}
	q := &Query{}
	var seen uint16
	for start := 0; start <= len(raw); {
		end := strings.IndexByte(raw[start:], '&')
		if end < 0 {
			end = len(raw)
		} else {
			end += start
		}
		// Empty segments ("a=b&&c=d", a trailing '&') carry nothing; real
		// clients produce them and servers ignore them.
		if end > start {
			if err := q.setPlain(raw[start:end], start, &seen); err != nil {
				return nil, err
			}
		}
		start = end + 1
	}
	for i, name := range plainParams[:4] {
		if seen&(1<<i) == 0 {
			return nil, &QueryError{Field: name, Offset: len(raw),
				Err: fmt.Errorf("%w: %s is required in the plain form", ErrMissingParameter, name)}
		}
	}
	return q, nil
}

// setPlain applies one Name=Value segment found at offset off.
func (q *Query) setPlain(seg string, off int, seen *uint16) error {
	rawName, rawValue, hasValue := strings.Cut(seg, "=")
	valueOff := off + len(rawName) + 1
	name := unescape(rawName, true)
	if err := checkText(name, MaxValueLen, false); err != nil {
		return &QueryError{Field: "parameter name", Offset: off, Err: err}
	}
	idx := slices.IndexFunc(plainParams[:], func(p string) bool { return asciiEqualFold(p, name) })
	if idx < 0 {
		for k := range q.Extra {
			if asciiEqualFold(k, name) {
				return &QueryError{Field: name, Offset: off, Err: fmt.Errorf("%w %q", ErrDuplicateParameter, clip(name))}
			}
		}
		value := unescape(rawValue, true)
		if err := checkText(value, MaxQueryLen, true); err != nil {
			return &QueryError{Field: name, Offset: valueOff, Err: err}
		}
		if q.Extra == nil {
			q.Extra = url.Values{}
		}
		q.Extra[name] = []string{value}
		return nil
	}
	field := plainParams[idx]
	if *seen&(1<<idx) != 0 {
		return &QueryError{Field: field, Offset: off, Err: fmt.Errorf("%w %s", ErrDuplicateParameter, field)}
	}
	*seen |= 1 << idx
	if !hasValue || rawValue == "" {
		return &QueryError{Field: field, Offset: valueOff, Err: fmt.Errorf("%w: empty", ErrInvalidValue)}
	}
	value := unescape(rawValue, true)
	var err error
	switch field {
	case paramCmd:
		if c := Command(value); c.Valid() {
			q.Cmd = c
		} else {
			err = fmt.Errorf("%w %q", ErrUnknownCommand, clip(value))
		}
	case paramDeviceID:
		err = checkPlainDeviceID(value)
		q.DeviceID = value
	case paramSaveInSent:
		switch value {
		case "T":
			q.SaveInSent = true
		case "F":
		default:
			err = fmt.Errorf("%w: want T or F", ErrInvalidValue)
		}
	default:
		err = checkText(value, MaxValueLen, false)
		q.setText(field, value)
	}
	if err != nil {
		return &QueryError{Field: field, Offset: valueOff, Err: err}
	}
	return nil
}

// setText stores a free-text parameter by its canonical name.
func (q *Query) setText(name, value string) {
	switch name {
	case paramUser:
		q.User = value
	case paramDeviceType:
		q.DeviceType = value
	case paramAttachmentName:
		q.AttachmentName = value
	case paramCollectionID:
		q.CollectionID = value
	case paramItemID:
		q.ItemID = value
	case paramLongID:
		q.LongID = value
	case paramOccurrence:
		q.Occurrence = value
	}
}

func parseBase64(raw string) (*Query, error) {
	if i, why := badQueryByte(raw, isBase64Char); i >= 0 {
		return nil, &QueryError{Base64: true, Field: "base64 text", Offset: i, Err: fmt.Errorf("%w: %s", ErrMalformedQuery, why)}
	}
	// Clients may percent-escape '+', '/' and '=', but '+' is a base64
	// digit here, never a space.
	text := unescape(raw, false)
	enc := base64.StdEncoding
	if len(text)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	// Strict rejects non-zero padding bits, so each query has exactly one
	// byte sequence and Encode reproduces what was parsed.
	var buf [maxDecoded]byte
	n, err := enc.Strict().Decode(buf[:], []byte(text))
	if err != nil {
		var ce base64.CorruptInputError
		off := 0
		if errors.As(err, &ce) {
			off = int(ce)
		}
		return nil, &QueryError{Base64: true, Field: "base64 text", Offset: off, Err: fmt.Errorf("%w: not base64", ErrMalformedQuery)}
	}
	return decodeFields(buf[:n])
}

// decodeFields parses the byte sequence of MS-ASHTTP 2.2.1.1.1.1. Every
// length is checked against what remains before it is used.
func decodeFields(b []byte) (*Query, error) {
	fail := func(field string, off int, err error) (*Query, error) {
		return nil, &QueryError{Base64: true, Field: field, Offset: off, Err: err}
	}
	truncated := func(need, off int) error {
		return fmt.Errorf("%w: truncated, %d bytes needed and %d left", ErrMalformedQuery, need, len(b)-off)
	}
	if len(b) < 5 {
		return fail("header", 0, truncated(5, 0))
	}
	q := &Query{Base64: true}
	if q.Version = Version(b[0]); !q.Version.Valid() {
		return fail("protocol version", 0, fmt.Errorf("%w: byte %d", ErrUnsupportedVersion, b[0]))
	}
	cmd, err := CommandForCode(b[1])
	if err != nil {
		return fail("command code", 1, fmt.Errorf("%w: code %d", ErrUnknownCommand, b[1]))
	}
	q.Cmd = cmd
	q.Locale = binary.LittleEndian.Uint16(b[2:4])

	// lengthPrefixed reads a length byte at off and the non-empty value after it.
	lengthPrefixed := func(field string, off int) (string, int, error) {
		if off >= len(b) {
			return "", off, &QueryError{Base64: true, Field: field + " length", Offset: off, Err: truncated(1, off)}
		}
		n := int(b[off])
		if n == 0 {
			return "", off, &QueryError{Base64: true, Field: field + " length", Offset: off, Err: fmt.Errorf("%w: zero", ErrMissingParameter)}
		}
		if off+1+n > len(b) {
			return "", off, &QueryError{Base64: true, Field: field + " length", Offset: off, Err: truncated(n, off+1)}
		}
		return string(b[off+1 : off+1+n]), off + 1 + n, nil
	}

	pos := 4
	if q.DeviceID, pos, err = lengthPrefixed("device ID", pos); err != nil {
		return nil, err
	}
	if q.DeviceID, q.BinaryDeviceID, err = deviceIDText(q.DeviceID); err != nil {
		return fail("device ID", 5, err)
	}
	if pos >= len(b) {
		return fail("policy key length", pos, truncated(1, pos))
	}
	switch b[pos] {
	case 0:
		pos++
	case 4:
		if pos+5 > len(b) {
			return fail("policy key", pos+1, truncated(4, pos+1))
		}
		q.PolicyKey = binary.LittleEndian.Uint32(b[pos+1 : pos+5])
		q.HasPolicyKey = true
		pos += 5
	default:
		return fail("policy key length", pos, fmt.Errorf("%w: %d, want 0 or 4", ErrInvalidValue, b[pos]))
	}
	typeOff := pos
	if q.DeviceType, pos, err = lengthPrefixed("device type", pos); err != nil {
		return nil, err
	}
	if err := checkText(q.DeviceType, MaxValueLen, false); err != nil {
		return fail("device type", typeOff+1, err)
	}

	var seen uint16
	for pos < len(b) {
		if pos+2 > len(b) {
			return fail("command parameter", pos, truncated(2, pos))
		}
		tag, n := b[pos], int(b[pos+1])
		valueOff := pos + 2
		if valueOff+n > len(b) {
			return fail("command parameter length", pos+1, truncated(n, valueOff))
		}
		value := b[valueOff : valueOff+n]
		field := tagName(tag)
		if field == "" {
			return fail("command parameter tag", pos, fmt.Errorf("%w: unknown tag %d", ErrMalformedQuery, tag))
		}
		if seen&(1<<tag) != 0 {
			return fail(field, pos, fmt.Errorf("%w %s", ErrDuplicateParameter, field))
		}
		seen |= 1 << tag
		if tag == tagOptions {
			if n != 1 {
				return fail(field, pos+1, fmt.Errorf("%w: length %d, want 1", ErrInvalidValue, n))
			}
			if value[0]&^(optSaveInSent|optAcceptMultiPart) != 0 {
				return fail(field, valueOff, fmt.Errorf("%w: unknown bits %#02x", ErrInvalidValue, value[0]))
			}
			q.SaveInSent = value[0]&optSaveInSent != 0
			q.AcceptMultiPart = value[0]&optAcceptMultiPart != 0
		} else {
			s := string(value)
			if err := checkText(s, MaxValueLen, false); err != nil {
				return fail(field, valueOff, err)
			}
			q.setText(field, s)
		}
		pos = valueOff + n
	}
	return q, nil
}

// tagName returns the parameter a base64 tag carries, or "" for none.
func tagName(tag byte) string {
	switch tag {
	case tagAttachmentName:
		return paramAttachmentName
	case tagCollectionID:
		return paramCollectionID
	case tagItemID:
		return paramItemID
	case tagLongID:
		return paramLongID
	case tagOccurrence:
		return paramOccurrence
	case tagOptions:
		return "Options"
	case tagUser:
		return paramUser
	}
	return ""
}

// Encode renders q in the base64 form or the plain form. Parsing the result
// gives q back for any q that ParseQuery returned in the same form. The
// result is never longer than the query q was parsed from, but for the two
// '=' of base64 padding that a client may have left out, and so stays
// within MaxQueryLen.
//
// Each form drops what it cannot carry: the plain form the base64-only
// fields (they travel as headers), the base64 form Extra. Encode does not
// validate: a hand-built q with missing or over-long fields yields a query
// that ParseQuery rejects (base64 values are cut to MaxValueLen bytes).
func (q *Query) Encode(base64Form bool) string {
	if base64Form {
		return q.encodeBase64()
	}
	return q.encodePlain()
}

func (q *Query) encodePlain() string {
	var sb strings.Builder
	sb.Grow(128)
	add := func(name, value string) {
		if value == "" {
			return
		}
		if sb.Len() > 0 {
			sb.WriteByte('&')
		}
		escapeTo(&sb, name, true)
		sb.WriteByte('=')
		escapeTo(&sb, value, false)
	}
	add(paramCmd, string(q.Cmd))
	add(paramUser, q.User)
	add(paramDeviceID, q.DeviceID)
	add(paramDeviceType, q.DeviceType)
	add(paramAttachmentName, q.AttachmentName)
	add(paramCollectionID, q.CollectionID)
	add(paramItemID, q.ItemID)
	add(paramLongID, q.LongID)
	add(paramOccurrence, q.Occurrence)
	if q.SaveInSent {
		add(paramSaveInSent, "T")
	}
	for _, k := range slices.Sorted(maps.Keys(q.Extra)) {
		for _, v := range q.Extra[k] {
			// Not add: an unknown parameter is passed on even when empty,
			// and then as a bare name, since "Foo" parses like "Foo=".
			if sb.Len() > 0 {
				sb.WriteByte('&')
			}
			escapeTo(&sb, k, true)
			if v != "" {
				sb.WriteByte('=')
				escapeTo(&sb, v, false)
			}
		}
	}
	return sb.String()
}

func (q *Query) encodeBase64() string {
	b := make([]byte, 0, 64+len(q.DeviceID)+len(q.DeviceType)+len(q.User)+
		len(q.AttachmentName)+len(q.CollectionID)+len(q.ItemID)+len(q.LongID)+len(q.Occurrence))
	code, _ := q.Cmd.Code()
	b = append(b, q.Version.Byte(), code)
	b = binary.LittleEndian.AppendUint16(b, q.Locale)
	id := q.DeviceID
	if q.BinaryDeviceID {
		if raw, err := hex.DecodeString(id); err == nil {
			id = string(raw)
		}
	}
	b = appendCounted(b, id)
	if q.HasPolicyKey {
		b = append(b, 4)
		b = binary.LittleEndian.AppendUint32(b, q.PolicyKey)
	} else {
		b = append(b, 0)
	}
	b = appendCounted(b, q.DeviceType)
	param := func(tag byte, v string) {
		if v != "" {
			b = append(b, tag)
			b = appendCounted(b, v)
		}
	}
	param(tagAttachmentName, q.AttachmentName)
	param(tagCollectionID, q.CollectionID)
	param(tagItemID, q.ItemID)
	param(tagLongID, q.LongID)
	param(tagOccurrence, q.Occurrence)
	var opts byte
	if q.SaveInSent {
		opts |= optSaveInSent
	}
	if q.AcceptMultiPart {
		opts |= optAcceptMultiPart
	}
	if opts != 0 {
		b = append(b, tagOptions, 1, opts)
	}
	param(tagUser, q.User)
	return base64.StdEncoding.EncodeToString(b)
}

// appendCounted appends a length byte and s, cut to what one byte can count.
func appendCounted(b []byte, s string) []byte {
	if len(s) > MaxValueLen {
		s = s[:MaxValueLen]
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// checkPlainDeviceID applies device-id = 1*32(ALPHA / DIGIT).
func checkPlainDeviceID(v string) error {
	if len(v) > MaxDeviceIDLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidValue, len(v), MaxDeviceIDLen)
	}
	for i := 0; i < len(v); i++ {
		if !isAlnum(v[i]) {
			return fmt.Errorf("%w: byte %d is %q, want letters and digits only", ErrInvalidValue, i, v[i])
		}
	}
	return nil
}

// deviceIDText returns a base64-form device ID as text: itself when it is
// printable (UTF-8 without control or format characters), else the
// upper-case hex of its bytes with binary set. A control character in a
// device ID would reach the cache, the logs and `gatehouse ctl` output.
func deviceIDText(raw string) (id string, binary bool, err error) {
	if printable(raw) {
		return raw, false, nil
	}
	if len(raw) > MaxDeviceIDLen {
		return "", false, fmt.Errorf("%w: binary device ID of %d bytes, limit %d", ErrInvalidValue, len(raw), MaxDeviceIDLen)
	}
	return strings.ToUpper(hex.EncodeToString([]byte(raw))), true, nil
}

// printable reports whether s is UTF-8 without control characters (C0,
// DEL, C1) or format characters (Cf: bidi overrides, zero-width joiners),
// the rule gateway/identity applies to user names.
func printable(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return false
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// checkText accepts UTF-8 without control characters: these values end up
// in logs and in the device cache, where a stray CR or ESC does harm.
func checkText(v string, maxLen int, allowEmpty bool) error {
	if v == "" {
		if allowEmpty {
			return nil
		}
		return fmt.Errorf("%w: empty", ErrInvalidValue)
	}
	if len(v) > maxLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidValue, len(v), maxLen)
	}
	for i, r := range v {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(v[i:], "\uFFFD"):
			return fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrInvalidValue, i)
		case r < 0x20, r >= 0x7F && r < 0xA0:
			return fmt.Errorf("%w: control character %U at byte %d", ErrInvalidValue, r, i)
		}
	}
	return nil
}

// badQueryByte returns the offset of the first byte that allowed rejects, or
// of the first malformed percent escape, and why; -1 if there is none.
func badQueryByte(raw string, allowed func(byte) bool) (int, string) {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return i, "malformed percent escape"
			}
			i += 2
			continue
		}
		if !allowed(c) {
			return i, fmt.Sprintf("byte %q not allowed here", c)
		}
	}
	return -1, ""
}

// isQueryChar accepts what RFC 3986 allows raw in a query ('%' is handled
// by the caller): unreserved, sub-delims, ':', '@', '/' and '?'.
func isQueryChar(c byte) bool {
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/', '?':
		return true
	}
	return isAlnum(c)
}

func isBase64Char(c byte) bool {
	return isAlnum(c) || c == '+' || c == '/' || c == '='
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// unescape decodes percent escapes, and '+' as space when plusSpace is set.
// Callers validate escapes first with badQueryByte; a malformed one is
// copied through rather than trusted.
func unescape(s string, plusSpace bool) string {
	if strings.IndexByte(s, '%') < 0 && (!plusSpace || strings.IndexByte(s, '+') < 0) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+' && plusSpace:
			c = ' '
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		b = append(b, c)
	}
	return string(b)
}

// escapeTo percent-encodes s for a query name or value. It leaves raw every
// byte that RFC 3986 allows raw in a query except those with a meaning here
// ('&' separates, '+' is a space, '=' ends a name), so an encoded query is
// never longer than one ParseQuery accepted and stays within MaxQueryLen.
func escapeTo(sb *strings.Builder, s string, name bool) {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			sb.WriteByte('+')
		case c == '&' || c == '+' || (c == '=' && name) || !isQueryChar(c):
			sb.WriteByte('%')
			sb.WriteByte(hexDigits[c>>4])
			sb.WriteByte(hexDigits[c&0xF])
		default:
			sb.WriteByte(c)
		}
	}
}

// asciiEqualFold compares ASCII case-insensitively; strings.EqualFold would
// also let "ſ" (U+017F) match "s" and so "Uſer" stand in for "User".
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// clip shortens user-supplied text quoted in an error.
func clip(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
