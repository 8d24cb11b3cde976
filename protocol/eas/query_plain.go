package eas

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

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
