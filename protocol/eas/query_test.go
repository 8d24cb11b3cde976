package eas

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// seq builds a byte sequence from bytes, strings and byte slices, so that
// base64 test queries read like the field table of MS-ASHTTP 2.2.1.1.1.1.
func seq(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			b = append(b, byte(p))
		case byte:
			b = append(b, p)
		case rune:
			b = append(b, byte(p))
		case string:
			b = append(b, p...)
		case []byte:
			b = append(b, p...)
		default:
			panic(fmt.Sprintf("seq: %T", p))
		}
	}
	return b
}

func b64(parts ...any) string { return base64.StdEncoding.EncodeToString(seq(parts...)) }

// The base64 example of MS-ASHTTP 2.2.1.1.1.1, quoted from the specification.
const specBase64Example = "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l"

func TestParseQueryGoldenSpecExamples(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    *Query
		wantEnc string // Encode's canonical form, when it differs from raw
	}{
		{
			name: "MS-ASHTTP 2.2.1.1.1.1 base64 example",
			raw:  specBase64Example,
			want: &Query{Base64: true, Version: V140, Cmd: CmdSync, Locale: 0x0409,
				DeviceID: "v140Device", DeviceType: "SmartPhone"},
		},
		{
			name: "MS-ASHTTP 4.1 FolderSync request",
			raw:  "Cmd=FolderSync&User=fakename&DeviceId=v140Device&DeviceType=SmartPhone",
			want: &Query{Cmd: CmdFolderSync, User: "fakename", DeviceID: "v140Device", DeviceType: "SmartPhone"},
		},
		{
			// Parameters out of the ABNF's order, as the specification's own
			// example sends them.
			name:    "MS-ASPROV 4.1.4 FolderSync with final policy key",
			raw:     "User=deviceuser&DeviceId=6F24CAD599A5BF1A690246B8C68FAE8D&DeviceType=PocketPC&Cmd=FolderSync",
			want:    &Query{Cmd: CmdFolderSync, User: "deviceuser", DeviceID: "6F24CAD599A5BF1A690246B8C68FAE8D", DeviceType: "PocketPC"},
			wantEnc: "Cmd=FolderSync&User=deviceuser&DeviceId=6F24CAD599A5BF1A690246B8C68FAE8D&DeviceType=PocketPC",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQuery(tt.raw)
			if err != nil {
				t.Fatalf("ParseQuery: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseQuery =\n%+v\nwant\n%+v", got, tt.want)
			}
			wantEnc := tt.raw
			if tt.wantEnc != "" {
				wantEnc = tt.wantEnc
			}
			if enc := got.Encode(got.Base64); enc != wantEnc {
				t.Errorf("Encode = %q, want %q", enc, wantEnc)
			}
		})
	}
}

func TestSpecBase64ExampleBytes(t *testing.T) {
	// The same example spelled out field by field from the table in
	// MS-ASHTTP 2.2.1.1.1.1, to pin the layout rather than one string.
	want := seq(
		140,        // protocol version 14.0
		0,          // command code: Sync
		0x09, 0x04, // locale 0x0409, little-endian
		10, "v140Device", // device ID length, device ID
		0,                // policy key length: none
		10, "SmartPhone", // device type length, device type
	)
	got, err := base64.StdEncoding.DecodeString(specBase64Example)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("spec example decodes to % x, want % x (%v)", got, want, err)
	}
	q := &Query{Base64: true, Version: V140, Cmd: CmdSync, Locale: 0x0409, DeviceID: "v140Device", DeviceType: "SmartPhone"}
	if enc := q.Encode(true); enc != specBase64Example {
		t.Errorf("Encode(true) = %q, want %q", enc, specBase64Example)
	}
	// The plain example of MS-ASHTTP 4.1 is the same device.
	q.Cmd, q.User = CmdFolderSync, "fakename"
	if enc, want := q.Encode(false), "Cmd=FolderSync&User=fakename&DeviceId=v140Device&DeviceType=SmartPhone"; enc != want {
		t.Errorf("Encode(false) = %q, want %q", enc, want)
	}
}

func TestParseQueryPlain(t *testing.T) {
	const base = "Cmd=Sync&User=u&DeviceId=d1&DeviceType=t"
	want := func(mod func(q *Query)) *Query {
		q := &Query{Cmd: CmdSync, User: "u", DeviceID: "d1", DeviceType: "t"}
		if mod != nil {
			mod(q)
		}
		return q
	}
	tests := []struct {
		name string
		raw  string
		want *Query
	}{
		{"minimal", base, want(nil)},
		{"names are case-insensitive", "cMD=Sync&USER=u&deviceid=d1&DEVICETYPE=t", want(nil)},
		{"percent-escaped name", "%43md=Sync&User=u&DeviceId=d1&DeviceType=t", want(nil)},
		{"empty segments", "&&" + base + "&", want(nil)},
		{"AttachmentName", "Cmd=GetAttachment&User=u&DeviceId=d1&DeviceType=t&AttachmentName=5%3A1%3A0",
			want(func(q *Query) { q.Cmd, q.AttachmentName = CmdGetAttachment, "5:1:0" })},
		{"SmartReply parameters", "Cmd=SmartReply&User=u&DeviceId=d1&DeviceType=t&CollectionId=6&ItemId=6%3A12&LongId=RgAAAA&Occurrence=2024-01-02&SaveInSent=T",
			want(func(q *Query) {
				q.Cmd, q.CollectionID, q.ItemID, q.LongID, q.Occurrence, q.SaveInSent = CmdSmartReply, "6", "6:12", "RgAAAA", "2024-01-02", true
			})},
		{"SaveInSent=F", base + "&SaveInSent=F", want(nil)},
		{"escapes in values", "Cmd=Sync&User=DOMAIN%5Cj+doe%2Bx%C3%A9&DeviceId=d1&DeviceType=t",
			want(func(q *Query) { q.User = `DOMAIN\j doe+xé` })},
		{"raw = inside a value", "Cmd=Sync&User=a=b&DeviceId=d1&DeviceType=t",
			want(func(q *Query) { q.User = "a=b" })},
		{"32-character device ID", "Cmd=Sync&User=u&DeviceId=" + strings.Repeat("A9", 16) + "&DeviceType=t",
			want(func(q *Query) { q.DeviceID = strings.Repeat("A9", 16) })},
		{"unknown parameters kept", base + "&Foo=bar&x%20y=1%262&Flag&Empty=",
			want(func(q *Query) { q.Extra = url.Values{"Foo": {"bar"}, "x y": {"1&2"}, "Flag": {""}, "Empty": {""}} })},
		{"Options is not a plain parameter", base + "&Options=3",
			want(func(q *Query) { q.Extra = url.Values{"Options": {"3"}} })},
		{"value of MaxValueLen bytes", "Cmd=Sync&User=" + strings.Repeat("%C3%A9", MaxValueLen/2) + "x&DeviceId=d1&DeviceType=t",
			want(func(q *Query) { q.User = strings.Repeat("é", MaxValueLen/2) + "x" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQuery(tt.raw)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseQuery(%q) =\n%+v\nwant\n%+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseQueryPlainErrors(t *testing.T) {
	const (
		head = "Cmd=Sync&User=u&DeviceId=d1"
		base = head + "&DeviceType=t"
	)
	tests := []struct {
		name   string
		raw    string
		err    error
		field  string
		offset int
	}{
		{"empty", "", ErrMalformedQuery, "query", 0},
		{"too long", base + "&X=" + strings.Repeat("a", MaxQueryLen), ErrQueryTooLong, "query", MaxQueryLen},
		{"raw space", "Cmd=Sync&User=a b&DeviceId=d1&DeviceType=t", ErrMalformedQuery, "query", 15},
		{"raw non-ASCII", "Cmd=Sync&User=é&DeviceId=d1&DeviceType=t", ErrMalformedQuery, "query", 14},
		{"raw fragment", base + "#x", ErrMalformedQuery, "query", len(base)},
		{"bad escape", "Cmd=Sync&User=%zz&DeviceId=d1&DeviceType=t", ErrMalformedQuery, "query", 14},
		{"truncated escape", base + "%4", ErrMalformedQuery, "query", len(base)},
		{"missing Cmd", "User=u&DeviceId=d1&DeviceType=t", ErrMissingParameter, "Cmd", 31},
		{"missing User", "Cmd=Sync&DeviceId=d1&DeviceType=t", ErrMissingParameter, "User", 33},
		{"missing DeviceId", "Cmd=Sync&User=u&DeviceType=t", ErrMissingParameter, "DeviceId", 28},
		{"missing DeviceType", head, ErrMissingParameter, "DeviceType", len(head)},
		{"lookalike name is not User", "Cmd=Sync&U%C5%BFer=u&DeviceId=d1&DeviceType=t", ErrMissingParameter, "User", 45},
		{"empty name", base + "&=x", ErrInvalidValue, "parameter name", len(base) + 1},
		{"control character in name", base + "&a%00=x", ErrInvalidValue, "parameter name", len(base) + 1},
		{"duplicate Cmd", "Cmd=Sync&User=u&cmd=Ping&DeviceId=d1&DeviceType=t", ErrDuplicateParameter, "Cmd", 16},
		{"duplicate unknown, other case", base + "&Foo=1&fOO=2", ErrDuplicateParameter, "fOO", len(base) + 7},
		{"unknown command", "Cmd=sync&User=u&DeviceId=d1&DeviceType=t", ErrUnknownCommand, "Cmd", 4},
		{"legacy command", "Cmd=GetHierarchy&User=u&DeviceId=d1&DeviceType=t", ErrUnknownCommand, "Cmd", 4},
		{"empty Cmd", "Cmd=&User=u&DeviceId=d1&DeviceType=t", ErrInvalidValue, "Cmd", 4},
		{"Cmd without =", "Cmd&User=u&DeviceId=d1&DeviceType=t", ErrInvalidValue, "Cmd", 4},
		{"empty User", "Cmd=Sync&User=&DeviceId=d1&DeviceType=t", ErrInvalidValue, "User", 14},
		{"DeviceId too long", "Cmd=Sync&User=u&DeviceId=" + strings.Repeat("a", 33) + "&DeviceType=t", ErrInvalidValue, "DeviceId", 25},
		{"DeviceId with a dash", "Cmd=Sync&User=u&DeviceId=ab-cd&DeviceType=t", ErrInvalidValue, "DeviceId", 25},
		{"DeviceId escaped space", "Cmd=Sync&User=u&DeviceId=ab%20cd&DeviceType=t", ErrInvalidValue, "DeviceId", 25},
		{"empty DeviceType", head + "&DeviceType=", ErrInvalidValue, "DeviceType", len(head) + 12},
		{"SaveInSent lower case", base + "&SaveInSent=t", ErrInvalidValue, "SaveInSent", len(base) + 12},
		{"SaveInSent Y", base + "&SaveInSent=Y", ErrInvalidValue, "SaveInSent", len(base) + 12},
		{"newline in User", "Cmd=Sync&User=a%0Ab&DeviceId=d1&DeviceType=t", ErrInvalidValue, "User", 14},
		{"C1 control in User", "Cmd=Sync&User=a%C2%85&DeviceId=d1&DeviceType=t", ErrInvalidValue, "User", 14},
		{"invalid UTF-8", "Cmd=Sync&User=%FF&DeviceId=d1&DeviceType=t", ErrInvalidValue, "User", 14},
		{"User too long", "Cmd=Sync&User=" + strings.Repeat("u", MaxValueLen+1) + "&DeviceId=d1&DeviceType=t", ErrInvalidValue, "User", 14},
		{"ItemId empty", base + "&ItemId=", ErrInvalidValue, "ItemId", len(base) + 8},
		{"control character in unknown value", base + "&Foo=%1B", ErrInvalidValue, "Foo", len(base) + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.raw)
			checkQueryError(t, q, err, false, tt.err, tt.field, tt.offset)
		})
	}
}

func TestParseQueryBase64(t *testing.T) {
	hdr := func(extra ...any) string {
		return b64(append([]any{141, 20, 0x09, 0x04, 4, "dev1", 0, 2, "PC"}, extra...)...)
	}
	want := func(mod func(q *Query)) *Query {
		q := &Query{Base64: true, Version: V141, Cmd: CmdProvision, Locale: 0x0409, DeviceID: "dev1", DeviceType: "PC"}
		if mod != nil {
			mod(q)
		}
		return q
	}
	guid := []byte{0x00, 0xFF, 0x10, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x7F}
	withKey := b64(161, 9, 0x07, 0x04, 4, "dev1", 4, 0x04, 0x03, 0x02, 0x01, 2, "PC")
	tests := []struct {
		name string
		raw  string
		want *Query
	}{
		{"header only", hdr(), want(nil)},
		{"policy key is little-endian", withKey,
			want(func(q *Query) {
				q.Version, q.Cmd, q.Locale, q.PolicyKey, q.HasPolicyKey = V161, CmdFolderSync, 0x0407, 0x01020304, true
			})},
		{"every command parameter", hdr(0, 5, "a.txt", 1, 1, "6", 3, 4, "6:12", 4, 2, "Rg", 6, 3, "occ", 7, 1, 0x03, 8, 5, "alice"),
			want(func(q *Query) {
				q.AttachmentName, q.CollectionID, q.ItemID, q.LongID, q.Occurrence = "a.txt", "6", "6:12", "Rg", "occ"
				q.SaveInSent, q.AcceptMultiPart, q.User = true, true, "alice"
			})},
		{"Options SaveInSent only", hdr(7, 1, 0x01), want(func(q *Query) { q.SaveInSent = true })},
		{"Options AcceptMultiPart only", hdr(7, 1, 0x02), want(func(q *Query) { q.AcceptMultiPart = true })},
		{"Options zero", hdr(7, 1, 0x00), want(nil)},
		{"binary GUID device ID", b64(141, 20, 0x09, 0x04, 16, guid, 0, 2, "PC"),
			want(func(q *Query) { q.DeviceID, q.BinaryDeviceID = "00FF10800102030405060708090A0B7F", true })},
		{"every version", b64(121, 20, 0, 0, 1, "d", 0, 1, "t"),
			&Query{Base64: true, Version: V121, Cmd: CmdProvision, DeviceID: "d", DeviceType: "t"}},
		{"unpadded", strings.TrimRight(hdr(8, 1, "u"), "="), want(func(q *Query) { q.User = "u" })},
		{"percent-escaped + / =", escapeB64(b64(141, 20, 0x09, 0x04, 3, "\xfb\xff\xbf", 0, 2, "PC", 8, 1, "u")),
			want(func(q *Query) { q.DeviceID, q.BinaryDeviceID, q.User = "FBFFBF", true, "u" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQuery(tt.raw)
			if err != nil {
				t.Fatalf("ParseQuery(%q): %v", tt.raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseQuery(%q) =\n%+v\nwant\n%+v", tt.raw, got, tt.want)
			}
		})
	}
}

// escapeB64 percent-escapes the base64 characters that some clients escape.
func escapeB64(s string) string {
	return strings.NewReplacer("+", "%2B", "/", "%2f", "=", "%3D").Replace(s)
}

func TestParseQueryBase64Errors(t *testing.T) {
	// Offsets below count bytes of the decoded sequence: the header is
	// version 0, command 1, locale 2-3, device ID length 4, ID 5-8,
	// policy key length 9, device type length 10, type 11-12, params 13-.
	hdr := []any{141, 20, 0x09, 0x04, 4, "dev1", 0, 2, "PC"}
	with := func(extra ...any) string { return b64(append(append([]any{}, hdr...), extra...)...) }
	tests := []struct {
		name   string
		raw    string
		err    error
		field  string
		offset int
	}{
		{"too long", strings.Repeat("A", MaxQueryLen+4), ErrQueryTooLong, "query", MaxQueryLen},
		{"not the alphabet", "jAAJ!Ap2", ErrMalformedQuery, "base64 text", 4},
		{"URL-safe alphabet", "jAAJ-Ap2", ErrMalformedQuery, "base64 text", 4},
		{"bad length", "jAAJB", ErrMalformedQuery, "base64 text", 4},
		// A raw '=' before the end would make the query plain text.
		{"escaped padding in the middle", "jAAJ%3DjAA", ErrMalformedQuery, "base64 text", 4},
		{"non-zero padding bits", "jAB=", ErrMalformedQuery, "base64 text", 3},
		{"shorter than a header", b64(141, 20, 0x09, 0x04), ErrMalformedQuery, "header", 0},
		{"protocol 12.0", b64(120, 20, 0x09, 0x04, 4, "dev1", 0, 2, "PC"), ErrUnsupportedVersion, "protocol version", 0},
		{"protocol 2.5", b64(25, 20, 0x09, 0x04, 4, "dev1", 0, 2, "PC"), ErrUnsupportedVersion, "protocol version", 0},
		{"unassigned command code", b64(141, 5, 0x09, 0x04, 4, "dev1", 0, 2, "PC"), ErrUnknownCommand, "command code", 1},
		{"command code past the table", b64(141, 24, 0x09, 0x04, 4, "dev1", 0, 2, "PC"), ErrUnknownCommand, "command code", 1},
		{"empty device ID", b64(141, 20, 0x09, 0x04, 0, 0, 2, "PC"), ErrMissingParameter, "device ID length", 4},
		{"device ID past the end", b64(141, 20, 0x09, 0x04, 200, "dev1", 0, 2, "PC"), ErrMalformedQuery, "device ID length", 4},
		{"no policy key length", b64(141, 20, 0x09, 0x04, 4, "dev1"), ErrMalformedQuery, "policy key length", 9},
		{"policy key length 3", b64(141, 20, 0x09, 0x04, 4, "dev1", 3, 1, 2, 3, 2, "PC"), ErrInvalidValue, "policy key length", 9},
		{"truncated policy key", b64(141, 20, 0x09, 0x04, 4, "dev1", 4, 1, 2), ErrMalformedQuery, "policy key", 10},
		{"no device type length", b64(141, 20, 0x09, 0x04, 4, "dev1", 0), ErrMalformedQuery, "device type length", 10},
		{"empty device type", b64(141, 20, 0x09, 0x04, 4, "dev1", 0, 0), ErrMissingParameter, "device type length", 10},
		{"device type past the end", b64(141, 20, 0x09, 0x04, 4, "dev1", 0, 9, "PC"), ErrMalformedQuery, "device type length", 10},
		{"control character in device type", b64(141, 20, 0x09, 0x04, 4, "dev1", 0, 2, "P\n"), ErrInvalidValue, "device type", 11},
		{"lone parameter byte", with(8), ErrMalformedQuery, "command parameter", 13},
		{"parameter past the end", with(8, 9, "alice"), ErrMalformedQuery, "command parameter length", 14},
		{"unassigned tag 2", with(2, 1, "x"), ErrMalformedQuery, "command parameter tag", 13},
		{"unassigned tag 5", with(5, 1, "x"), ErrMalformedQuery, "command parameter tag", 13},
		{"tag past the table", with(9, 1, "x"), ErrMalformedQuery, "command parameter tag", 13},
		{"tag 255", with(255, 1, "x"), ErrMalformedQuery, "command parameter tag", 13},
		{"duplicate User", with(8, 1, "a", 8, 1, "b"), ErrDuplicateParameter, "User", 16},
		{"Options of two bytes", with(7, 2, 1, 0), ErrInvalidValue, "Options", 14},
		{"Options with an unknown bit", with(7, 1, 0x04), ErrInvalidValue, "Options", 15},
		{"empty User", with(8, 0), ErrInvalidValue, "User", 15},
		{"invalid UTF-8 in ItemId", with(3, 2, 0xC3, 0x28), ErrInvalidValue, "ItemId", 15},
		{"escape in User", with(8, 2, 0x1B, 'x'), ErrInvalidValue, "User", 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery(tt.raw)
			checkQueryError(t, q, err, true, tt.err, tt.field, tt.offset)
		})
	}
}

func checkQueryError(t *testing.T, q *Query, err error, base64Form bool, want error, field string, offset int) {
	t.Helper()
	if err == nil {
		t.Fatalf("ParseQuery succeeded with %+v, want %v", q, want)
	}
	if q != nil {
		t.Errorf("ParseQuery returned %+v with its error", q)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %q", err, want)
	}
	var qe *QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("error %q is not a *QueryError", err)
	}
	if qe.Base64 != base64Form || qe.Field != field || qe.Offset != offset {
		t.Errorf("error at (base64=%v %q %d), want (%v %q %d): %v", qe.Base64, qe.Field, qe.Offset, base64Form, field, offset, err)
	}
	if !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), fmt.Sprint("offset ", offset)) {
		t.Errorf("message %q does not name field %q and offset %d", err, field, offset)
	}
}

func TestEncodePlainEscaping(t *testing.T) {
	q := &Query{Cmd: CmdSendMail, User: `DOM\a b+c&d=e%#é`, DeviceID: "X1", DeviceType: "t/y:z?",
		Extra: url.Values{"b=c": {"v=w"}, "a": {""}}}
	const want = "Cmd=SendMail&User=DOM%5Ca+b%2Bc%26d=e%25%23%C3%A9&DeviceId=X1&DeviceType=t/y:z?&a&b%3Dc=v=w"
	if got := q.Encode(false); got != want {
		t.Fatalf("Encode(false) =\n%s\nwant\n%s", got, want)
	}
	back, err := ParseQuery(want)
	if err != nil || !reflect.DeepEqual(back, q) {
		t.Fatalf("ParseQuery(Encode) = %+v, %v; want %+v", back, err, q)
	}
}

func TestEncodeDropsWhatAFormCannotCarry(t *testing.T) {
	q := &Query{Cmd: CmdItemOperations, User: "u", DeviceID: "d1", DeviceType: "t",
		Version: V161, Locale: 0x0409, PolicyKey: 7, HasPolicyKey: true, AcceptMultiPart: true,
		Extra: url.Values{"Foo": {"bar"}}}
	plain, err := ParseQuery(q.Encode(false))
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Query{Cmd: CmdItemOperations, User: "u", DeviceID: "d1", DeviceType: "t", Extra: url.Values{"Foo": {"bar"}}}); !reflect.DeepEqual(plain, want) {
		t.Errorf("plain form kept base64-only fields: %+v", plain)
	}
	b, err := ParseQuery(q.Encode(true))
	if err != nil {
		t.Fatal(err)
	}
	want := *q
	want.Base64, want.Extra = true, nil
	if !reflect.DeepEqual(b, &want) {
		t.Errorf("base64 form = %+v, want %+v", b, &want)
	}
}

func TestEncodeBase64CutsOverlongValues(t *testing.T) {
	// Documented: a hand-built value longer than a length byte can count is
	// cut rather than corrupting the fields after it.
	q := &Query{Base64: true, Version: V141, Cmd: CmdSync, DeviceID: strings.Repeat("d", 300),
		DeviceType: "t", User: strings.Repeat("u", 300), ItemID: "i"}
	got, err := ParseQuery(q.Encode(true))
	if err != nil {
		t.Fatal(err)
	}
	if got.DeviceID != strings.Repeat("d", MaxValueLen) || got.User != strings.Repeat("u", MaxValueLen) || got.ItemID != "i" {
		t.Errorf("got DeviceID %d bytes, User %d bytes, ItemID %q", len(got.DeviceID), len(got.User), got.ItemID)
	}
}

// TestQueryRoundTrip is a property test: random queries survive Encode and
// ParseQuery unchanged in both forms.
func TestQueryRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, base64Form := range []bool{false, true} {
		skipped := 0
		const n = 3000
		for i := range n {
			q := randomQuery(rng, base64Form)
			enc := q.Encode(base64Form)
			if len(enc) > MaxQueryLen {
				skipped++
				continue
			}
			got, err := ParseQuery(enc)
			if err != nil {
				t.Fatalf("case %d: ParseQuery(%q): %v\nfrom %+v", i, enc, err, q)
			}
			if !reflect.DeepEqual(got, q) {
				t.Fatalf("case %d: round trip through %q\ngot  %+v\nwant %+v", i, enc, got, q)
			}
			if again := got.Encode(base64Form); again != enc {
				t.Fatalf("case %d: Encode not canonical: %q then %q", i, enc, again)
			}
		}
		if skipped > n/10 {
			t.Errorf("base64=%v: %d of %d random queries were too long to test", base64Form, skipped, n)
		}
	}
}

// textRunes mixes what plain queries must escape with what they may not.
var textRunes = []rune("abcXYZ019 -._~!$'()*,;:@/?&=+%#\"<>[]\\^`{|}éü日\u00a0\U0001F600")

func randomText(rng *rand.Rand, maxRunes int) string {
	var sb strings.Builder
	for range 1 + rng.IntN(maxRunes) {
		sb.WriteRune(textRunes[rng.IntN(len(textRunes))])
	}
	return sb.String()
}

func randomAlnum(rng *rand.Rand, n int) string {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[rng.IntN(len(alnum))]
	}
	return string(b)
}

func randomQuery(rng *rand.Rand, base64Form bool) *Query {
	cmds := Commands()
	q := &Query{
		Base64:     base64Form,
		Cmd:        cmds[rng.IntN(len(cmds))],
		User:       randomText(rng, 20),
		DeviceID:   randomAlnum(rng, 1+rng.IntN(MaxDeviceIDLen)),
		DeviceType: randomText(rng, 12),
		SaveInSent: rng.IntN(2) == 0,
	}
	optional := []*string{&q.AttachmentName, &q.CollectionID, &q.ItemID, &q.LongID, &q.Occurrence}
	for _, p := range optional {
		if rng.IntN(3) == 0 {
			*p = randomText(rng, 16)
		}
	}
	if base64Form {
		vs := Versions()
		q.Version = vs[rng.IntN(len(vs))]
		q.Locale = uint16(rng.Uint32())
		if q.HasPolicyKey = rng.IntN(2) == 0; q.HasPolicyKey {
			q.PolicyKey = rng.Uint32()
		}
		q.AcceptMultiPart = rng.IntN(2) == 0
		if rng.IntN(4) == 0 { // binary device IDs, as the base64 form allows
			id := make([]byte, 1+rng.IntN(MaxDeviceIDLen))
			for i := range id[1:] {
				id[i+1] = byte(rng.UintN(256))
			}
			// A leading NUL makes it binary; parsed, it reads as hex.
			q.DeviceID, q.BinaryDeviceID = strings.ToUpper(hex.EncodeToString(id)), true
		}
		if rng.IntN(4) == 0 { // the longest value a length byte can count
			q.User = strings.Repeat("é", MaxValueLen/2) + "u"
		}
		return q
	}
	if rng.IntN(3) == 0 {
		q.User = randomText(rng, 40)
	}
	for range rng.IntN(3) {
		name := randomText(rng, 8)
		if slicesContainFold(plainParams[:], name) || extraHasFold(q.Extra, name) {
			continue
		}
		if q.Extra == nil {
			q.Extra = url.Values{}
		}
		value := ""
		if rng.IntN(4) != 0 {
			value = randomText(rng, 10)
		}
		q.Extra[name] = []string{value}
	}
	return q
}

func slicesContainFold(list []string, s string) bool {
	for _, v := range list {
		if asciiEqualFold(v, s) {
			return true
		}
	}
	return false
}

func extraHasFold(v url.Values, s string) bool {
	for k := range v {
		if asciiEqualFold(k, s) {
			return true
		}
	}
	return false
}

// FuzzParseQuery checks that ParseQuery never panics, fails only with a
// *QueryError, and that whatever it accepts survives Encode and a second
// parse unchanged, within the size limit.
func FuzzParseQuery(f *testing.F) {
	f.Add(specBase64Example)
	f.Add("Cmd=FolderSync&User=fakename&DeviceId=v140Device&DeviceType=SmartPhone")
	f.Add("Cmd=SmartReply&User=DOMAIN%5Cj+doe&DeviceId=d1&DeviceType=t&ItemId=6%3A1&CollectionId=6&SaveInSent=T&Foo=bar")
	f.Add(b64(141, 3, 0x09, 0x04, 4, "dev1", 4, 1, 2, 3, 4, 2, "PC", 0, 1, "a", 1, 1, "6", 3, 1, "i", 4, 1, "l", 6, 1, "o", 7, 1, 3, 8, 1, "u"))
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := ParseQuery(raw)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("error %v is a %T, not a *QueryError", err, err)
			}
			if q != nil {
				t.Fatalf("ParseQuery returned %+v with error %v", q, err)
			}
			return
		}
		if !printableID(q.DeviceID) {
			t.Fatalf("ParseQuery(%q) accepted device ID %q", raw, q.DeviceID)
		}
		enc := q.Encode(q.Base64)
		limit := len(raw)
		if q.Base64 {
			limit = (len(raw) + 3) / 4 * 4 // padding a client left out
		}
		if len(enc) > limit || len(enc) > MaxQueryLen {
			t.Fatalf("Encode grew %d bytes to %d: %q -> %q", len(raw), len(enc), raw, enc)
		}
		again, err := ParseQuery(enc)
		if err != nil {
			t.Fatalf("ParseQuery(Encode(ParseQuery(%q))) = %v; encoded %q", raw, err, enc)
		}
		if !reflect.DeepEqual(q, again) {
			t.Fatalf("round trip of %q through %q:\n got %+v\nwant %+v", raw, enc, again, q)
		}
		if enc2 := again.Encode(again.Base64); enc2 != enc {
			t.Fatalf("Encode not canonical: %q then %q", enc, enc2)
		}
	})
}

// printableID is the invariant every parsed device ID keeps: UTF-8
// without control or format characters, so that nothing a device sends
// reaches the cache, a log or a terminal raw (issue 18).
func printableID(id string) bool {
	if id == "" || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// TestBase64DeviceIDNeverCarriesControlCharacters pins issue 18: the
// base64 form's device ID reached the cache with newlines, ESC and NUL.
// Printable IDs stay as they are; binary ones (a GUID) read as hex and
// are sent again as the same bytes; over-long binary ones are refused.
func TestBase64DeviceIDNeverCarriesControlCharacters(t *testing.T) {
	tests := []struct {
		name   string
		id     string
		want   string // "" for an error
		binary bool
	}{
		{"printable", "ApplF17L1234ABCD", "ApplF17L1234ABCD", false},
		{"printable with space and accent", "tél 1", "tél 1", false},
		{"newline", "dev\nINJECTED", "6465760A494E4A4543544544", true},
		{"ESC sequence", "\x1b[31mred", "1B5B33316D726564", true},
		{"NUL", "a\x00b", "610062", true},
		{"DEL", "a\x7f", "617F", true},
		{"C1 control", "a\u0085", "61C285", true},
		{"bidi override", "a\u202eb", "61E280AE62", true},
		{"invalid UTF-8", "\xff\xfe", "FFFE", true},
		{"binary at the limit", strings.Repeat("\x00", MaxDeviceIDLen), strings.Repeat("00", MaxDeviceIDLen), true},
		{"binary over the limit", strings.Repeat("\x00", MaxDeviceIDLen+1), "", false},
		{"long printable", strings.Repeat("d", 200), strings.Repeat("d", 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := b64(141, 20, 0x09, 0x04, len(tt.id), tt.id, 0, 2, "PC")
			q, err := ParseQuery(raw)
			if tt.want == "" {
				var qe *QueryError
				if !errors.As(err, &qe) || qe.Field != "device ID" || !errors.Is(err, ErrInvalidValue) {
					t.Fatalf("ParseQuery = %+v, %v; want a device ID error", q, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.DeviceID != tt.want || q.BinaryDeviceID != tt.binary || !printableID(q.DeviceID) {
				t.Fatalf("device ID %q (binary %v), want %q (binary %v)", q.DeviceID, q.BinaryDeviceID, tt.want, tt.binary)
			}
			if enc := q.Encode(true); enc != raw {
				t.Fatalf("Encode = %q, want the device's bytes again %q", enc, raw)
			}
		})
	}
}

// BenchmarkParseQuery measures both forms next to a baseline that does a
// fraction of the work (url.ParseQuery, a bare base64 decode), so that the
// cost reads as a ratio measured in the same run on the same machine.
func BenchmarkParseQuery(b *testing.B) {
	const plain = "Cmd=SmartReply&User=DOMAIN%5Cjdoe&DeviceId=ApplF17L1234ABCD&DeviceType=iPhone&ItemId=6%3A12&CollectionId=6&SaveInSent=T"
	b64q := b64(161, 3, 0x09, 0x04, 16, "ApplF17L1234ABCD", 4, 1, 2, 3, 4, 6, "iPhone", 1, 1, "6", 3, 4, "6:12", 7, 1, 1, 8, 11, "DOMAIN\\jdoe")
	cases := []struct {
		name string
		raw  string
		fn   func(string) error
	}{
		{"plain", plain, func(s string) error { _, err := ParseQuery(s); return err }},
		{"plain-baseline-url.ParseQuery", plain, func(s string) error { _, err := url.ParseQuery(s); return err }},
		{"base64", b64q, func(s string) error { _, err := ParseQuery(s); return err }},
		{"base64-baseline-DecodeString", b64q, func(s string) error { _, err := base64.StdEncoding.DecodeString(s); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if err := c.fn(c.raw); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(c.raw)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.fn(c.raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleParseQuery() {
	// The base64 example of MS-ASHTTP 2.2.1.1.1.1.
	q, err := ParseQuery("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Cmd, q.Version, q.DeviceID, q.DeviceType)

	// The same device as a plain-text query.
	q.Cmd, q.User = CmdFolderSync, "fakename"
	fmt.Println(q.Encode(false))

	_, err = ParseQuery("Cmd=Sync&User=u&DeviceId=not-alnum&DeviceType=t")
	fmt.Println(err)
	// Output:
	// Sync 14.0 v140Device SmartPhone
	// Cmd=FolderSync&User=fakename&DeviceId=v140Device&DeviceType=SmartPhone
	// eas: plain query: DeviceId at offset 25: invalid value: byte 3 is '-', want letters and digits only
}
