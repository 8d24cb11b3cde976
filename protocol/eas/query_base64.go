package eas

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

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
	if len(b) < 5 {
		return nil, fieldError("header", 0, truncated(b, 5, 0))
	}
	q := &Query{Base64: true}
	if q.Version = Version(b[0]); !q.Version.Valid() {
		return nil, fieldError("protocol version", 0, fmt.Errorf("%w: byte %d", ErrUnsupportedVersion, b[0]))
	}
	cmd, err := CommandForCode(b[1])
	if err != nil {
		return nil, fieldError("command code", 1, fmt.Errorf("%w: code %d", ErrUnknownCommand, b[1]))
	}
	q.Cmd = cmd
	q.Locale = binary.LittleEndian.Uint16(b[2:4])

	pos, err := q.decodeDevice(b, 4)
	if err != nil {
		return nil, err
	}
	if err := q.decodeParams(b, pos); err != nil {
		return nil, err
	}
	return q, nil
}

// fieldError is a base64-form *QueryError.
func fieldError(field string, off int, err error) error {
	return &QueryError{Base64: true, Field: field, Offset: off, Err: err}
}

// truncated says that need bytes were needed at off and fewer are left.
func truncated(b []byte, need, off int) error {
	return fmt.Errorf("%w: truncated, %d bytes needed and %d left", ErrMalformedQuery, need, len(b)-off)
}

// lengthPrefixed reads a length byte at off and the non-empty value after
// it, returning the offset after the value.
func lengthPrefixed(b []byte, field string, off int) (string, int, error) {
	if off >= len(b) {
		return "", off, fieldError(field+" length", off, truncated(b, 1, off))
	}
	n := int(b[off])
	if n == 0 {
		return "", off, fieldError(field+" length", off, fmt.Errorf("%w: zero", ErrMissingParameter))
	}
	if off+1+n > len(b) {
		return "", off, fieldError(field+" length", off, truncated(b, n, off+1))
	}
	return string(b[off+1 : off+1+n]), off + 1 + n, nil
}

// decodeDevice reads the device ID, the policy key and the device type
// from pos and returns the offset of the command parameters.
func (q *Query) decodeDevice(b []byte, pos int) (int, error) {
	var err error
	idOff := pos
	if q.DeviceID, pos, err = lengthPrefixed(b, "device ID", pos); err != nil {
		return pos, err
	}
	if q.DeviceID, q.BinaryDeviceID, err = deviceIDText(q.DeviceID); err != nil {
		return pos, fieldError("device ID", idOff+1, err)
	}
	if pos >= len(b) {
		return pos, fieldError("policy key length", pos, truncated(b, 1, pos))
	}
	switch b[pos] {
	case 0:
		pos++
	case 4:
		if pos+5 > len(b) {
			return pos, fieldError("policy key", pos+1, truncated(b, 4, pos+1))
		}
		q.PolicyKey = binary.LittleEndian.Uint32(b[pos+1 : pos+5])
		q.HasPolicyKey = true
		pos += 5
	default:
		return pos, fieldError("policy key length", pos, fmt.Errorf("%w: %d, want 0 or 4", ErrInvalidValue, b[pos]))
	}
	typeOff := pos
	if q.DeviceType, pos, err = lengthPrefixed(b, "device type", pos); err != nil {
		return pos, err
	}
	if err := checkText(q.DeviceType, MaxValueLen, false); err != nil {
		return pos, fieldError("device type", typeOff+1, err)
	}
	return pos, nil
}

// decodeParams reads the tagged command parameters from pos to the end,
// each at most once.
func (q *Query) decodeParams(b []byte, pos int) error {
	var seen uint16
	for pos < len(b) {
		if pos+2 > len(b) {
			return fieldError("command parameter", pos, truncated(b, 2, pos))
		}
		tag, n := b[pos], int(b[pos+1])
		valueOff := pos + 2
		if valueOff+n > len(b) {
			return fieldError("command parameter length", pos+1, truncated(b, n, valueOff))
		}
		value := b[valueOff : valueOff+n]
		field := tagName(tag)
		if field == "" {
			return fieldError("command parameter tag", pos, fmt.Errorf("%w: unknown tag %d", ErrMalformedQuery, tag))
		}
		if seen&(1<<tag) != 0 {
			return fieldError(field, pos, fmt.Errorf("%w %s", ErrDuplicateParameter, field))
		}
		seen |= 1 << tag
		if tag == tagOptions {
			if err := q.setOptions(field, value, pos+1); err != nil {
				return err
			}
		} else {
			s := string(value)
			if err := checkText(s, MaxValueLen, false); err != nil {
				return fieldError(field, valueOff, err)
			}
			q.setText(field, s)
		}
		pos = valueOff + n
	}
	return nil
}

// setOptions applies the Options parameter, whose length byte is at lenOff.
func (q *Query) setOptions(field string, value []byte, lenOff int) error {
	if len(value) != 1 {
		return fieldError(field, lenOff, fmt.Errorf("%w: length %d, want 1", ErrInvalidValue, len(value)))
	}
	if value[0]&^(optSaveInSent|optAcceptMultiPart) != 0 {
		return fieldError(field, lenOff+1, fmt.Errorf("%w: unknown bits %#02x", ErrInvalidValue, value[0]))
	}
	q.SaveInSent = value[0]&optSaveInSent != 0
	q.AcceptMultiPart = value[0]&optAcceptMultiPart != 0
	return nil
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
