package wbxml

import (
	"bytes"
	"fmt"
)

// Encoder writes a WBXML document token by token into a buffer. It tracks
// the current code page so that SWITCH_PAGE is written only when needed.
type Encoder struct {
	buf   bytes.Buffer
	page  uint8
	depth int
	err   error
}

// NewEncoder starts a document with the ActiveSync header
// (WBXML 1.3, unknown public identifier, UTF-8, empty string table).
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.buf.Write([]byte{Version13, PublicIDUnknown, CharsetUTF8, 0x00})
	return e
}

// Grow reserves room for n more bytes, to avoid copies for large documents.
func (e *Encoder) Grow(n int) { e.buf.Grow(n) }

func (e *Encoder) switchTo(page uint8) {
	if page != e.page {
		e.buf.WriteByte(tokSwitchPage)
		e.buf.WriteByte(page)
		e.page = page
	}
}

func (e *Encoder) checkTag(t Tag) bool {
	if e.err == nil && (t.Token < 0x05 || t.Token > tagTokenMask) {
		e.err = fmt.Errorf("wbxml: tag token 0x%02X outside 0x05-0x3F", t.Token)
	}
	return e.err == nil
}

// Start opens an element that will have content or children.
func (e *Encoder) Start(t Tag) {
	if !e.checkTag(t) {
		return
	}
	e.switchTo(t.Page)
	e.buf.WriteByte(t.Token | tagHasContent)
	e.depth++
}

// Empty writes an element with no content.
func (e *Encoder) Empty(t Tag) {
	if !e.checkTag(t) {
		return
	}
	e.switchTo(t.Page)
	e.buf.WriteByte(t.Token)
}

// End closes the innermost open element.
func (e *Encoder) End() {
	if e.err == nil && e.depth == 0 {
		e.err = fmt.Errorf("wbxml: End with no open element")
		return
	}
	e.depth--
	e.buf.WriteByte(tokEnd)
}

// Text writes an inline string. Strings cannot hold NUL, the terminator.
func (e *Encoder) Text(s []byte) {
	if e.err == nil && bytes.IndexByte(s, 0) >= 0 {
		e.err = fmt.Errorf("wbxml: inline string contains NUL; use opaque data")
		return
	}
	e.buf.WriteByte(tokStrI)
	e.buf.Write(s)
	e.buf.WriteByte(0)
}

// Opaque writes opaque data.
func (e *Encoder) Opaque(b []byte) {
	e.buf.WriteByte(tokOpaque)
	e.writeMBUint32(uint32(len(b)))
	e.buf.Write(b)
}

func (e *Encoder) writeMBUint32(v uint32) {
	var tmp [5]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7F)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7F) | 0x80
	}
	e.buf.Write(tmp[i:])
}

// Node writes an element and everything under it.
func (e *Encoder) Node(n *Node) {
	switch {
	case len(n.Children) > 0:
		e.Start(n.Tag)
		for _, c := range n.Children {
			e.Node(c)
		}
		e.End()
	case n.Content == nil:
		e.Empty(n.Tag)
	default:
		e.Start(n.Tag)
		if n.Opaque {
			e.Opaque(n.Content)
		} else {
			e.Text(n.Content)
		}
		e.End()
	}
}

// Bytes returns the document, or the first error met while encoding.
func (e *Encoder) Bytes() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	if e.depth != 0 {
		return nil, fmt.Errorf("wbxml: %d element(s) left open", e.depth)
	}
	return e.buf.Bytes(), nil
}

// Marshal encodes a tree as a complete document.
func Marshal(root *Node) ([]byte, error) {
	e := NewEncoder()
	e.Grow(root.size())
	e.Node(root)
	return e.Bytes()
}

// size estimates the encoded size, so Marshal allocates once.
func (n *Node) size() int {
	s := 4 + len(n.Content)
	for _, c := range n.Children {
		s += c.size()
	}
	return s
}
