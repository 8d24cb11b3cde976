// Package wbxml encodes and decodes WAP Binary XML 1.3 as Exchange
// ActiveSync uses it (MS-ASWBXML): tags in code pages, inline and
// string-table strings, and opaque data. Attributes, entities and extension
// tokens are not part of ActiveSync and are rejected.
package wbxml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Global tokens (WBXML 1.3 section 7.1).
const (
	tokSwitchPage = 0x00
	tokEnd        = 0x01
	tokEntity     = 0x02
	tokStrI       = 0x03
	tokLiteral    = 0x04
	tokExtI0      = 0x40
	tokExtI2      = 0x42
	tokPI         = 0x43
	tokLiteralC   = 0x44
	tokExtT0      = 0x80
	tokExtT2      = 0x82
	tokStrT       = 0x83
	tokLiteralA   = 0x84
	tokExt0       = 0xC0
	tokExt2       = 0xC2
	tokOpaque     = 0xC3
	tokLiteralAC  = 0xC4

	tagHasContent = 0x40
	tagHasAttrs   = 0x80
	tagTokenMask  = 0x3F
)

// Header values ActiveSync uses: WBXML 1.3, unknown public identifier, UTF-8.
const (
	Version13       = 0x03
	PublicIDUnknown = 0x01
	CharsetUTF8     = 0x6A
)

// Limits bound what a decoder accepts, so that a hostile peer cannot make it
// recurse, loop or allocate without bound.
type Limits struct {
	MaxSize     int // bytes of input; 0 means DefaultLimits.MaxSize
	MaxDepth    int // nesting of elements
	MaxElements int // start tags in one document
}

// DefaultLimits fit the largest ActiveSync messages a gateway should relay
// (ItemOperations with multi-megabyte attachments) with a wide margin.
var DefaultLimits = Limits{MaxSize: 64 << 20, MaxDepth: 64, MaxElements: 1 << 20}

func (l Limits) orDefault() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultLimits.MaxSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultLimits.MaxElements
	}
	return l
}

// SyntaxError reports malformed input with the byte offset where it was found.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("wbxml: offset %d: %s", e.Offset, e.Msg) }

// ErrLimit is wrapped by errors raised when input exceeds a Limits value.
var ErrLimit = errors.New("limit exceeded")

// Kind says what a Token holds.
type Kind uint8

const (
	StartElement Kind = iota + 1
	EndElement
	Text
	Opaque
)

func (k Kind) String() string {
	switch k {
	case StartElement:
		return "start"
	case EndElement:
		return "end"
	case Text:
		return "text"
	case Opaque:
		return "opaque"
	}
	return "invalid"
}

// Token is one item of the decoded stream. Data aliases the decoder's input
// and is valid as long as that input is.
type Token struct {
	Kind   Kind
	Tag    Tag    // StartElement and EndElement
	Empty  bool   // StartElement encoded without content (no END follows in the input)
	Data   []byte // Text (without its terminator) and Opaque
	Offset int    // where the token starts in the input
}

// Header is the WBXML document header.
type Header struct {
	Version     uint8
	PublicID    uint32 // 0 means the public identifier is a string-table reference
	PublicIDRef uint32
	Charset     uint32
	StringTable []byte
}

// Decoder reads tokens from a complete WBXML document held in memory.
// ActiveSync bodies are bounded by Content-Length, so working on a slice
// lets text and opaque data alias the input instead of being copied.
type Decoder struct {
	data     []byte
	pos      int
	page     uint8
	lim      Limits
	header   Header
	stack    []Tag
	elements int
	pendEnd  bool // an empty start tag was returned; its EndElement is next
	pendTag  Tag
	done     bool   // the root element has closed
	trailing error  // what follows the root, reported after its EndElement
	slab     []Node // backing store for ReadElement's nodes
}

// NewDecoder parses the header of data and returns a decoder positioned at
// the root element.
func NewDecoder(data []byte, lim Limits) (*Decoder, error) {
	d := new(Decoder)
	if err := d.Reset(data, lim); err != nil {
		return nil, err
	}
	return d, nil
}

// Reset makes d a decoder of data, as NewDecoder(data, lim) returns it,
// keeping the memory of its element stack: a pooled decoder then scans
// document after document without allocating.
func (d *Decoder) Reset(data []byte, lim Limits) error {
	lim = lim.orDefault()
	*d = Decoder{data: data, lim: lim, stack: d.stack[:0]}
	if len(data) > lim.MaxSize {
		return fmt.Errorf("wbxml: document of %d bytes exceeds %d: %w", len(data), lim.MaxSize, ErrLimit)
	}
	return d.readHeader()
}

// Header returns the parsed document header.
func (d *Decoder) Header() Header { return d.header }

// Depth is the number of open elements.
func (d *Decoder) Depth() int { return len(d.stack) }

func (d *Decoder) errf(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (d *Decoder) readByte(what string) (byte, error) {
	if d.pos >= len(d.data) {
		return 0, d.errf(d.pos, "unexpected end of input reading %s", what)
	}
	b := d.data[d.pos]
	d.pos++
	return b, nil
}

// readMBUint32 reads a multi-byte unsigned integer (at most five bytes, 32 bits).
func (d *Decoder) readMBUint32(what string) (uint32, error) {
	start := d.pos
	var v uint64
	for i := 0; i < 5; i++ {
		b, err := d.readByte(what)
		if err != nil {
			return 0, err
		}
		v = v<<7 | uint64(b&0x7F)
		if b&0x80 == 0 {
			if v > 0xFFFFFFFF {
				return 0, d.errf(start, "%s overflows 32 bits", what)
			}
			return uint32(v), nil
		}
	}
	return 0, d.errf(start, "%s is longer than five bytes", what)
}

func (d *Decoder) readHeader() error {
	v, err := d.readByte("version")
	if err != nil {
		return err
	}
	if v > Version13 {
		return d.errf(0, "unsupported WBXML version 0x%02X", v)
	}
	d.header.Version = v
	if d.header.PublicID, err = d.readMBUint32("public identifier"); err != nil {
		return err
	}
	if d.header.PublicID == 0 {
		if d.header.PublicIDRef, err = d.readMBUint32("public identifier index"); err != nil {
			return err
		}
	}
	if d.header.Charset, err = d.readMBUint32("charset"); err != nil {
		return err
	}
	if d.header.Charset != CharsetUTF8 && d.header.Charset != 0 {
		// ActiveSync is UTF-8 only; other charsets would need transcoding.
		return d.errf(d.pos, "unsupported charset MIBenum %d (only UTF-8)", d.header.Charset)
	}
	off := d.pos
	n, err := d.readMBUint32("string table length")
	if err != nil {
		return err
	}
	if int64(n) > int64(len(d.data)-d.pos) {
		return d.errf(off, "string table length %d exceeds the %d bytes left", n, len(d.data)-d.pos)
	}
	d.header.StringTable = d.data[d.pos : d.pos+int(n) : d.pos+int(n)]
	d.pos += int(n)
	if d.header.PublicID == 0 && int64(d.header.PublicIDRef) >= int64(len(d.header.StringTable)) {
		return d.errf(off, "public identifier index %d outside the string table", d.header.PublicIDRef)
	}
	return nil
}

// PublicIDString returns the public identifier when it is given as a
// string-table reference, e.g. "-//MICROSOFT//DTD ActiveSync//EN".
func (h Header) PublicIDString() string {
	if h.PublicID != 0 || int(h.PublicIDRef) >= len(h.StringTable) {
		return ""
	}
	s := h.StringTable[h.PublicIDRef:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s)
}

// Token returns the next token, or io.EOF after the root element has closed.
func (d *Decoder) Token() (Token, error) {
	if d.pendEnd {
		d.pendEnd = false
		return Token{Kind: EndElement, Tag: d.pendTag, Offset: d.pos}, nil
	}
	if d.done {
		if d.trailing != nil {
			return Token{}, d.trailing
		}
		return Token{}, io.EOF
	}
	for {
		if d.pos >= len(d.data) {
			return Token{}, d.endOfInput()
		}
		off := d.pos
		b := d.data[d.pos]
		d.pos++
		switch b {
		case tokSwitchPage:
			p, err := d.readByte("code page")
			if err != nil {
				return Token{}, err
			}
			d.page = p
			continue
		case tokEnd:
			if len(d.stack) == 0 {
				return Token{}, d.errf(off, "END with no open element")
			}
			t := d.stack[len(d.stack)-1]
			d.stack = d.stack[:len(d.stack)-1]
			if len(d.stack) == 0 {
				d.finish()
			}
			return Token{Kind: EndElement, Tag: t, Offset: off}, nil
		case tokStrI:
			if len(d.stack) == 0 {
				return Token{}, d.errf(off, "text outside the root element")
			}
			i := bytes.IndexByte(d.data[d.pos:], 0)
			if i < 0 {
				return Token{}, d.errf(off, "inline string has no terminating NUL")
			}
			s := d.data[d.pos : d.pos+i : d.pos+i]
			d.pos += i + 1
			return Token{Kind: Text, Data: s, Offset: off}, nil
		case tokStrT:
			return d.tableString(off)
		case tokOpaque:
			if len(d.stack) == 0 {
				return Token{}, d.errf(off, "opaque data outside the root element")
			}
			lenOff := d.pos
			n, err := d.readMBUint32("opaque length")
			if err != nil {
				return Token{}, err
			}
			// Check the length against what is left before slicing, so a
			// forged length can never cause an allocation or a panic.
			if int64(n) > int64(len(d.data)-d.pos) {
				return Token{}, d.errf(lenOff, "opaque length %d exceeds the %d bytes left", n, len(d.data)-d.pos)
			}
			s := d.data[d.pos : d.pos+int(n) : d.pos+int(n)]
			d.pos += int(n)
			return Token{Kind: Opaque, Data: s, Offset: off}, nil
		case tokEntity, tokLiteral, tokLiteralA, tokLiteralC, tokLiteralAC, tokPI:
			return Token{}, d.unusedToken(b, off)
		}
		// The extension tokens EXT_T_n and EXT_n have the attribute bit
		// set, so one test sends them and tags with attributes to
		// unusedToken; only EXT_I_n needs its own.
		if b&tagHasAttrs != 0 || (b >= tokExtI0 && b <= tokExtI2) {
			return Token{}, d.unusedToken(b, off)
		}
		return d.startTag(b, off)
	}
}

// The rest of Token's cases are cold (errors, and string-table text that
// ActiveSync encoders do not write); they are kept out of the token loop.

// endOfInput is the error for input that ends before the root element
// has closed.
func (d *Decoder) endOfInput() error {
	if len(d.stack) > 0 {
		return d.errf(d.pos, "unexpected end of input: %d element(s) open, innermost %s", len(d.stack), d.stack[len(d.stack)-1])
	}
	return d.errf(d.pos, "document has no root element")
}

// tableString reads STR_T at off: text that is an entry of the string table.
func (d *Decoder) tableString(off int) (Token, error) {
	if len(d.stack) == 0 {
		return Token{}, d.errf(off, "text outside the root element")
	}
	idx, err := d.readMBUint32("string table index")
	if err != nil {
		return Token{}, err
	}
	st := d.header.StringTable
	if int64(idx) >= int64(len(st)) {
		return Token{}, d.errf(off, "string table index %d outside a table of %d bytes", idx, len(st))
	}
	s := st[idx:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return Token{}, d.errf(off, "string table entry %d has no terminating NUL", idx)
	}
	return Token{Kind: Text, Data: s[:i:i], Offset: off}, nil
}

// unusedToken is the error for token b at off, which WBXML has and
// ActiveSync does not use: entities, literal tags, processing
// instructions, extensions and attributes.
func (d *Decoder) unusedToken(b byte, off int) error {
	switch {
	case b == tokEntity:
		return d.errf(off, "ENTITY token is not used by ActiveSync")
	case b == tokLiteral || b == tokLiteralA || b == tokLiteralC || b == tokLiteralAC:
		return d.errf(off, "literal tag 0x%02X (tag named in the string table) is not used by ActiveSync", b)
	case b == tokPI:
		return d.errf(off, "processing instruction is not used by ActiveSync")
	case (b >= tokExtI0 && b <= tokExtI2) || (b >= tokExtT0 && b <= tokExtT2) || (b >= tokExt0 && b <= tokExt2):
		return d.errf(off, "extension token 0x%02X is not used by ActiveSync", b)
	}
	return d.errf(off, "tag 0x%02X has attributes, which ActiveSync does not use", b)
}

func (d *Decoder) startTag(b byte, off int) (Token, error) {
	d.elements++
	if d.elements > d.lim.MaxElements {
		return Token{}, fmt.Errorf("wbxml: offset %d: more than %d elements: %w", off, d.lim.MaxElements, ErrLimit)
	}
	t := Tag{Page: d.page, Token: b & tagTokenMask}
	if b&tagHasContent == 0 {
		if len(d.stack) == 0 {
			d.finish()
		}
		d.pendEnd, d.pendTag = true, t
		return Token{Kind: StartElement, Tag: t, Empty: true, Offset: off}, nil
	}
	if len(d.stack) >= d.lim.MaxDepth {
		return Token{}, fmt.Errorf("wbxml: offset %d: nesting deeper than %d: %w", off, d.lim.MaxDepth, ErrLimit)
	}
	d.stack = append(d.stack, t)
	return Token{Kind: StartElement, Tag: t, Offset: off}, nil
}

// finish marks the root as closed. Bytes after it are an error, reported
// once the root's EndElement has been returned.
func (d *Decoder) finish() {
	d.done = true
	if d.pos < len(d.data) {
		d.trailing = d.errf(d.pos, "%d byte(s) after the root element", len(d.data)-d.pos)
	}
}
