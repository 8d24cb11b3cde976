package wbxml

import (
	"errors"
	"fmt"
	"io"
)

// Node is one element of a decoded document. An element holds either
// child elements or content (text or opaque), as every ActiveSync element
// does; mixed content is rejected by Parse.
//
// Content aliases the parsed input. An element without children whose
// Content is nil was encoded empty (<Tag/>); a non-nil empty Content was
// encoded with an empty string or zero-length opaque data.
type Node struct {
	Tag      Tag
	Children []*Node
	Content  []byte
	Opaque   bool // Content was (or is to be) encoded as OPAQUE rather than a string
}

// Document is a decoded WBXML document.
type Document struct {
	Header Header
	Root   *Node
}

// Parse decodes a whole document into a tree.
func Parse(data []byte, lim Limits) (*Document, error) {
	d, err := NewDecoder(data, lim)
	if err != nil {
		return nil, err
	}
	root, err := d.ReadElement()
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = d.errf(d.pos, "data after the root element")
		}
		return nil, err
	}
	return &Document{Header: d.Header(), Root: root}, nil
}

// ReadElement reads the next element and everything inside it as a tree.
// It lets a caller stream through a large document and build trees only for
// the parts it wants.
func (d *Decoder) ReadElement() (*Node, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	if tok.Kind != StartElement {
		return nil, d.errf(tok.Offset, "expected a start tag, found %s", tok.Kind)
	}
	return d.readChildren(tok)
}

// newNode hands out nodes from slabs, so a tree costs a few allocations
// per hundred elements instead of one each.
func (d *Decoder) newNode(t Tag) *Node {
	if len(d.slab) == cap(d.slab) {
		d.slab = make([]Node, 0, min(max(2*cap(d.slab), 16), 256))
	}
	d.slab = append(d.slab, Node{Tag: t})
	return &d.slab[len(d.slab)-1]
}

func (d *Decoder) readChildren(start Token) (*Node, error) {
	n := d.newNode(start.Tag)
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, d.errf(d.pos, "unexpected end of input inside %s", start.Tag)
			}
			return nil, err
		}
		switch tok.Kind {
		case EndElement:
			return n, nil
		case StartElement:
			if n.Content != nil {
				return nil, d.errf(tok.Offset, "%s mixes content and child elements", n.Tag)
			}
			c, err := d.readChildren(tok)
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, c)
		case Text, Opaque:
			if len(n.Children) > 0 {
				return nil, d.errf(tok.Offset, "%s mixes content and child elements", n.Tag)
			}
			if n.Content != nil && n.Opaque != (tok.Kind == Opaque) {
				return nil, d.errf(tok.Offset, "%s mixes text and opaque content", n.Tag)
			}
			n.Opaque = tok.Kind == Opaque
			if n.Content == nil {
				n.Content = tok.Data
			} else {
				// Split strings are rare; joining them costs one copy.
				joined := make([]byte, 0, len(n.Content)+len(tok.Data))
				n.Content = append(append(joined, n.Content...), tok.Data...)
			}
		}
	}
}

// Child returns the first child with the given tag, or nil.
func (n *Node) Child(t Tag) *Node {
	for _, c := range n.Children {
		if c.Tag == t {
			return c
		}
	}
	return nil
}

// Find follows a path of tags from n and returns the first match, or nil.
func (n *Node) Find(path ...Tag) *Node {
	cur := n
	for _, t := range path {
		if cur = cur.Child(t); cur == nil {
			return nil
		}
	}
	return cur
}

// Text returns the content as a string.
func (n *Node) Text() string { return string(n.Content) }

// NewText returns a leaf element holding a string.
func NewText(t Tag, s string) *Node { return &Node{Tag: t, Content: []byte(s)} }

// NewOpaque returns a leaf element holding opaque bytes.
func NewOpaque(t Tag, b []byte) *Node {
	if b == nil {
		b = []byte{}
	}
	return &Node{Tag: t, Content: b, Opaque: true}
}

// NewElement returns an element with the given children (none makes it empty).
func NewElement(t Tag, children ...*Node) *Node { return &Node{Tag: t, Children: children} }

// Equal reports whether two trees have the same tags, content kinds and content.
func (n *Node) Equal(o *Node) bool {
	if n == nil || o == nil {
		return n == o
	}
	if n.Tag != o.Tag || n.Opaque != o.Opaque || string(n.Content) != string(o.Content) ||
		(n.Content == nil) != (o.Content == nil) || len(n.Children) != len(o.Children) {
		return false
	}
	for i := range n.Children {
		if !n.Children[i].Equal(o.Children[i]) {
			return false
		}
	}
	return true
}

// Diff describes the first difference between two trees, or "" when equal.
func Diff(a, b *Node) string { return diff(a, b, "") }

func diff(a, b *Node, path string) string {
	if a == nil || b == nil {
		if a == b {
			return ""
		}
		return fmt.Sprintf("%s: one side missing", path)
	}
	path += "/" + a.Tag.String()
	switch {
	case a.Tag != b.Tag:
		return fmt.Sprintf("%s: tag %s vs %s", path, a.Tag, b.Tag)
	case a.Opaque != b.Opaque:
		return fmt.Sprintf("%s: opaque %v vs %v", path, a.Opaque, b.Opaque)
	case string(a.Content) != string(b.Content) || (a.Content == nil) != (b.Content == nil):
		return fmt.Sprintf("%s: content %q vs %q", path, clip(a.Content), clip(b.Content))
	}
	for i := 0; i < len(a.Children) && i < len(b.Children); i++ {
		if d := diff(a.Children[i], b.Children[i], path); d != "" {
			return d
		}
	}
	if len(a.Children) != len(b.Children) {
		return fmt.Sprintf("%s: %d vs %d children", path, len(a.Children), len(b.Children))
	}
	return ""
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// ReadDocument reads a document from r and parses it. sizeHint (an HTTP
// Content-Length, or 0 when unknown) sizes the buffer so that reading is
// the only copy made; more than lim.MaxSize bytes is an error.
func ReadDocument(r io.Reader, sizeHint int64, lim Limits) (*Document, error) {
	lim = lim.orDefault()
	if sizeHint > int64(lim.MaxSize) {
		return nil, fmt.Errorf("wbxml: document of %d bytes exceeds %d: %w", sizeHint, lim.MaxSize, ErrLimit)
	}
	// +1 so that reading exactly sizeHint bytes still leaves room to see EOF.
	buf := make([]byte, 0, max(sizeHint, 512)+1)
	lr := io.LimitReader(r, int64(lim.MaxSize)+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow; only when the hint was short
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("wbxml: reading document: %w", err)
		}
	}
	if len(buf) > lim.MaxSize {
		return nil, fmt.Errorf("wbxml: document exceeds %d bytes: %w", lim.MaxSize, ErrLimit)
	}
	return Parse(buf, lim)
}
