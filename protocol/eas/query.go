package eas

import (
	"errors"
	"fmt"
	"net/url"
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
