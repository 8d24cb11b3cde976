package wbxml

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// doc prefixes an ActiveSync header (no string table) to a body.
func doc(body ...byte) []byte {
	return append([]byte{Version13, PublicIDUnknown, CharsetUTF8, 0x00}, body...)
}

func TestDecoderTokens(t *testing.T) {
	// <Sync><SyncKey>0</SyncKey><AirSyncBase:Body><Data opaque "hi"/></Body><GetChanges/></Sync>
	data := doc(0x45, 0x4B, tokStrI, '0', 0, tokEnd,
		tokSwitchPage, 17, 0x4A, 0x4B, tokOpaque, 2, 'h', 'i', tokEnd, tokEnd,
		tokSwitchPage, 0, 0x13, tokEnd)
	d, err := NewDecoder(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	type tk struct {
		kind  Kind
		tag   string
		data  string
		empty bool
	}
	want := []tk{
		{StartElement, "AirSync:Sync", "", false},
		{StartElement, "AirSync:SyncKey", "", false},
		{Text, "", "0", false},
		{EndElement, "AirSync:SyncKey", "", false},
		{StartElement, "AirSyncBase:Body", "", false},
		{StartElement, "AirSyncBase:Data", "", false},
		{Opaque, "", "hi", false},
		{EndElement, "AirSyncBase:Data", "", false},
		{EndElement, "AirSyncBase:Body", "", false},
		{StartElement, "AirSync:GetChanges", "", true},
		{EndElement, "AirSync:GetChanges", "", false},
		{EndElement, "AirSync:Sync", "", false},
	}
	for i, w := range want {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		got := tk{tok.Kind, "", string(tok.Data), tok.Empty}
		if tok.Kind == StartElement || tok.Kind == EndElement {
			got.tag = tok.Tag.String()
		}
		if got != w {
			t.Fatalf("token %d = %+v, want %+v", i, got, w)
		}
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("after root: %v, want io.EOF", err)
	}
}

func TestDecoderRejectsMalformed(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		wantErr string
		offset  int // -1 when the error is not a SyntaxError
	}{
		{"empty input", nil, Limits{}, "reading version", 0},
		{"version 2.0", []byte{0x20, 1, 0x6A, 0}, Limits{}, "unsupported WBXML version", 0},
		{"truncated public id", []byte{3, 0x81}, Limits{}, "reading public identifier", 2},
		{"mb_u_int32 of six bytes", []byte{3, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01}, Limits{}, "longer than five bytes", 1},
		{"mb_u_int32 overflow", []byte{3, 0x9F, 0xFF, 0xFF, 0xFF, 0x7F}, Limits{}, "overflows 32 bits", 1},
		{"charset latin1", []byte{3, 1, 4, 0}, Limits{}, "unsupported charset", 3},
		{"string table longer than input", []byte{3, 1, 0x6A, 0x8F, 0x7F, 'a'}, Limits{}, "string table length 2047 exceeds", 3},
		{"public id index outside table", []byte{3, 0, 9, 0x6A, 1, 0, 0x45, 1}, Limits{}, "public identifier index 9", 4},
		{"no root", doc(), Limits{}, "no root element", 4},
		{"unclosed root", doc(0x45), Limits{}, "1 element(s) open, innermost AirSync:Sync", 5},
		{"end without element", doc(tokEnd), Limits{}, "END with no open element", 4},
		{"inline string without NUL", doc(0x45, tokStrI, 'a', 'b'), Limits{}, "no terminating NUL", 5},
		{"opaque length beyond input", doc(0x45, tokOpaque, 0x84, 0x80, 0x00, 'x'), Limits{}, "opaque length 65536 exceeds the 1 bytes left", 6},
		{"opaque length 4 GiB", doc(0x45, tokOpaque, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F), Limits{}, "opaque length 4294967295 exceeds", 6},
		{"string table ref without table", doc(0x45, tokStrT, 0), Limits{}, "string table index 0 outside a table of 0 bytes", 5},
		{"attributes", doc(0xC5, 1, 1), Limits{}, "has attributes", 4},
		{"entity", doc(0x45, tokEntity, 0x41, tokEnd), Limits{}, "ENTITY", 5},
		{"literal tag", doc(tokLiteral, 0), Limits{}, "literal tag", 4},
		{"extension token", doc(0x45, tokExtI0, 0), Limits{}, "extension token 0x40", 5},
		{"processing instruction", doc(tokPI), Limits{}, "processing instruction", 4},
		// Every token ActiveSync does not use, with its own message.
		{"extension token EXT_I_2", doc(0x45, tokExtI2, 0), Limits{}, "extension token 0x42", 5},
		{"extension token EXT_T_0", doc(0x45, tokExtT0, 0), Limits{}, "extension token 0x80", 5},
		{"extension token EXT_T_2", doc(0x45, tokExtT2, 0), Limits{}, "extension token 0x82", 5},
		{"extension token EXT_0", doc(0x45, tokExt0), Limits{}, "extension token 0xC0", 5},
		{"extension token EXT_2", doc(0x45, tokExt2), Limits{}, "extension token 0xC2", 5},
		{"literal tag with content", doc(tokLiteralC, 0), Limits{}, "literal tag 0x44", 4},
		{"literal tag with attributes", doc(tokLiteralA, 0), Limits{}, "literal tag 0x84", 4},
		{"literal tag with both", doc(tokLiteralAC, 0), Limits{}, "literal tag 0xC4", 4},
		{"attributes without content", doc(0x85), Limits{}, "tag 0x85 has attributes", 4},
		{"string table entry without NUL", []byte{3, 1, 0x6A, 2, 'a', 'b', 0x45, tokStrT, 0, 1}, Limits{}, "string table entry 0 has no terminating NUL", 7},
		{"text before root", doc(tokStrI, 'a', 0), Limits{}, "outside the root", 4},
		{"trailing bytes", doc(0x05, 0x05), Limits{}, "1 byte(s) after the root element", 5},
		{"depth limit", doc(0x45, 0x45, 0x45, 1, 1, 1), Limits{MaxDepth: 2}, "nesting deeper than 2", -1},
		{"element limit", doc(0x45, 0x05, 0x05, 0x05, 1), Limits{MaxElements: 3}, "more than 3 elements", -1},
		{"size limit", doc(0x45, 1), Limits{MaxSize: 5}, "exceeds 5", -1},
		{"switch page at end", doc(0x45, tokSwitchPage), Limits{}, "reading code page", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.data, tt.lim)
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
			var se *SyntaxError
			switch {
			case tt.offset < 0:
				if !errors.Is(err, ErrLimit) {
					t.Fatalf("error %q does not wrap ErrLimit", err)
				}
			case !errors.As(err, &se):
				t.Fatalf("error %T is not a *SyntaxError", err)
			case se.Offset != tt.offset:
				t.Fatalf("offset %d, want %d (%v)", se.Offset, tt.offset, err)
			}
		})
	}
}

func TestParseRejectsMixedContent(t *testing.T) {
	for name, data := range map[string][]byte{
		"text then element": doc(0x45, tokStrI, 'a', 0, 0x05, 1),
		"element then text": doc(0x45, 0x05, tokStrI, 'a', 0, 1),
		"text then opaque":  doc(0x45, tokStrI, 'a', 0, tokOpaque, 1, 'b', 1),
	} {
		if _, err := Parse(data, Limits{}); err == nil || !strings.Contains(err.Error(), "mixes") {
			t.Errorf("%s: err = %v, want a mixed-content error", name, err)
		}
	}
}

func TestStringTableAndPublicID(t *testing.T) {
	table := []byte("-//MICROSOFT//DTD ActiveSync//EN\x00hello\x00")
	data := []byte{3, 0, 0, 0x6A, byte(len(table))}
	data = append(data, table...)
	data = append(data, 0x45, 0x4B, tokStrT, 33, tokEnd, tokEnd)
	d, err := Parse(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Header.PublicIDString(); got != "-//MICROSOFT//DTD ActiveSync//EN" {
		t.Errorf("public id %q", got)
	}
	if got := d.Root.Find(MustTag("AirSync:SyncKey")).Text(); got != "hello" {
		t.Errorf("STR_T text %q, want hello", got)
	}
}

func TestSplitStringsJoin(t *testing.T) {
	d, err := Parse(doc(0x4B, tokStrI, 'a', 'b', 0, tokStrI, 'c', 0, tokEnd), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Root.Text() != "abc" || d.Root.Opaque {
		t.Fatalf("got %q opaque=%v", d.Root.Content, d.Root.Opaque)
	}
}

func TestUnknownTagsRoundTrip(t *testing.T) {
	// Token 0x3E of AirSync and a whole unknown page 0x40 are kept as is.
	data := doc(0x45, 0x7E, tokStrI, 'x', 0, tokEnd, tokSwitchPage, 0x40, 0x06, tokEnd)
	d, err := Parse(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Root.Children[0].Tag.String(); got != "AirSync:0x3E" {
		t.Errorf("unknown tag prints %q", got)
	}
	if got := d.Root.Children[1].Tag.String(); got != "0x40:0x06" {
		t.Errorf("unknown page prints %q", got)
	}
	out, err := Marshal(d.Root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("re-encoded\n%x\nwant\n%x", out, data)
	}
}

func TestEncoderErrors(t *testing.T) {
	e := NewEncoder()
	e.Start(MustTag("AirSync:Sync"))
	e.Text([]byte("a\x00b"))
	e.End()
	if _, err := e.Bytes(); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("NUL in string: %v", err)
	}
	e = NewEncoder()
	e.Start(MustTag("AirSync:Sync"))
	if _, err := e.Bytes(); err == nil || !strings.Contains(err.Error(), "left open") {
		t.Errorf("open element: %v", err)
	}
	e = NewEncoder()
	e.Empty(Tag{Page: 0, Token: 0x04})
	if _, err := e.Bytes(); err == nil || !strings.Contains(err.Error(), "outside 0x05-0x3F") {
		t.Errorf("bad token: %v", err)
	}
}

func TestMBUint32Encoding(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 1 << 21, 5 << 20} {
		e := NewEncoder()
		e.Start(MustTag("ItemOperations:Data"))
		e.Opaque(make([]byte, n))
		e.End()
		data, err := e.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(data, Limits{})
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(d.Root.Content) != n || !d.Root.Opaque {
			t.Fatalf("n=%d: decoded %d bytes opaque=%v", n, len(d.Root.Content), d.Root.Opaque)
		}
	}
}

func TestDecoderAliasesInput(t *testing.T) {
	// Opaque data must not be copied: a 5 MiB attachment stays one buffer.
	payload := bytes.Repeat([]byte{0xAB}, 1<<20)
	data, err := Marshal(NewOpaque(MustTag("ItemOperations:Data"), payload))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if &d.Root.Content[0] != &data[len(data)-len(payload)-1] {
		t.Fatal("opaque content was copied out of the input")
	}
}

func TestReadDocumentLimits(t *testing.T) {
	data := doc(0x45, 0x4B, tokStrI, '0', 0, tokEnd, tokEnd)
	for _, tt := range []struct {
		name    string
		hint    int64
		max     int
		wantErr bool
	}{
		{"exact hint", int64(len(data)), 0, false},
		{"no hint", 0, 0, false},
		{"wrong small hint", 2, 0, false},
		{"hint over limit", 100, 50, true},
		{"body over limit", 0, len(data) - 1, true},
	} {
		d, err := ReadDocument(bytes.NewReader(data), tt.hint, Limits{MaxSize: tt.max})
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v", tt.name, err)
		}
		if err == nil && d.Root.Find(MustTag("AirSync:SyncKey")).Text() != "0" {
			t.Errorf("%s: wrong tree", tt.name)
		}
		if tt.wantErr && !errors.Is(err, ErrLimit) {
			t.Errorf("%s: %v does not wrap ErrLimit", tt.name, err)
		}
	}
}
