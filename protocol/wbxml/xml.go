package wbxml

import (
	"bufio"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The XML form follows libwbxml's ActiveSync output: each element carries
// xmlns="Page:" when its code page differs from its parent's, and content of
// conventionally opaque elements is base64. Where a node's content kind
// differs from the convention, a content="string|opaque|base64" attribute
// says how it was encoded, so the XML form round-trips exactly.

const xmlProlog = `<?xml version="1.0"?>` + "\n" +
	`<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">` + "\n"

// WriteXML writes the tree rooted at n as an indented XML document.
func WriteXML(w io.Writer, n *Node) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(xmlProlog)
	writeXMLNode(bw, n, 0xFF, 0)
	return bw.Flush()
}

// XML returns the XML form of the tree rooted at n.
func (n *Node) XML() string {
	var sb strings.Builder
	_ = WriteXML(&sb, n)
	return sb.String()
}

func xmlName(t Tag) string {
	if name := t.Name(); name != "" {
		return name
	}
	return fmt.Sprintf("_%02X", t.Token)
}

func pageNS(id uint8) string {
	if p := pageByID(id); p != nil {
		return p.Name + ":"
	}
	return fmt.Sprintf("Page%d:", id)
}

func writeXMLNode(w *bufio.Writer, n *Node, parentPage uint8, depth int) {
	indent := strings.Repeat(" ", depth)
	name := xmlName(n.Tag)
	w.WriteString(indent + "<" + name)
	if n.Tag.Page != parentPage {
		w.WriteString(` xmlns="` + pageNS(n.Tag.Page) + `"`)
	}
	content, attr := xmlContent(n)
	if attr != "" {
		w.WriteString(` content="` + attr + `"`)
	}
	switch {
	case len(n.Children) > 0:
		w.WriteString(">\n")
		for _, c := range n.Children {
			writeXMLNode(w, c, n.Tag.Page, depth+1)
		}
		w.WriteString(indent + "</" + name + ">\n")
	case n.Content == nil:
		w.WriteString("/>\n")
	default:
		w.WriteString(">")
		_ = xml.EscapeText(w, []byte(content))
		w.WriteString("</" + name + ">\n")
	}
}

// xmlContent returns the text to write and the content attribute, if any.
// Empty content gets an attribute too, since <X></X> and <X/> read the same.
func xmlContent(n *Node) (string, string) {
	text, attr := xmlContentKind(n)
	if attr == "" && n.Content != nil && len(n.Content) == 0 {
		attr = "string"
		if n.Opaque {
			attr = "base64"
		}
	}
	return text, attr
}

func xmlContentKind(n *Node) (string, string) {
	conv := ConventionallyOpaque(n.Tag)
	switch {
	case n.Opaque && conv:
		return base64.StdEncoding.EncodeToString(n.Content), ""
	case n.Opaque && printable(n.Content):
		return string(n.Content), "opaque"
	case n.Opaque:
		return base64.StdEncoding.EncodeToString(n.Content), "base64"
	case conv && n.Content != nil:
		return string(n.Content), "string"
	}
	return string(n.Content), ""
}

// printable reports whether b survives as XML text: valid UTF-8 without
// control characters other than tab, CR and LF.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// ParseXML reads the XML form back into a tree. Namespaces may be written
// "AirSync" or "AirSync:" and names match case-insensitively, so libwbxml's
// output is accepted too.
func ParseXML(r io.Reader) (*Node, error) {
	dec := xml.NewDecoder(r)
	var stack []*xmlBuild
	var root *Node
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("wbxml: xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			tag, err := resolveXMLName(t.Name)
			if err != nil {
				line, _ := dec.InputPos()
				return nil, fmt.Errorf("wbxml: xml line %d: %w", line, err)
			}
			b := &xmlBuild{node: &Node{Tag: tag}, mode: ""}
			for _, a := range t.Attr {
				if a.Name.Local == "content" {
					b.mode = a.Value
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.node.Children = append(p.node.Children, b.node)
			} else if root != nil {
				return nil, errors.New("wbxml: xml has more than one root element")
			} else {
				root = b.node
			}
			stack = append(stack, b)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text = append(stack[len(stack)-1].text, t...)
				stack[len(stack)-1].sawText = true
			}
		case xml.EndElement:
			b := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if err := b.finish(); err != nil {
				line, _ := dec.InputPos()
				return nil, fmt.Errorf("wbxml: xml line %d: %w", line, err)
			}
		}
	}
	if root == nil {
		return nil, errors.New("wbxml: xml has no root element")
	}
	return root, nil
}

type xmlBuild struct {
	node    *Node
	text    []byte
	sawText bool
	mode    string
}

func (b *xmlBuild) finish() error {
	n := b.node
	if len(n.Children) > 0 {
		if strings.TrimSpace(string(b.text)) != "" {
			return fmt.Errorf("%s mixes text and child elements", n.Tag)
		}
		return nil
	}
	if !b.sawText {
		if b.mode != "" {
			n.Content, n.Opaque = []byte{}, b.mode != "string"
		}
		return nil
	}
	mode := b.mode
	if mode == "" && ConventionallyOpaque(n.Tag) {
		mode = "base64"
	}
	switch mode {
	case "", "string":
		n.Content = b.text
	case "opaque":
		n.Content, n.Opaque = b.text, true
	case "base64":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b.text)))
		if err != nil {
			return fmt.Errorf("%s: content is not base64: %w", n.Tag, err)
		}
		n.Content, n.Opaque = raw, true
	default:
		return fmt.Errorf("%s: unknown content attribute %q", n.Tag, mode)
	}
	return nil
}

func resolveXMLName(name xml.Name) (Tag, error) {
	ns := strings.TrimSuffix(name.Space, ":")
	var page *CodePage
	for _, p := range codePages {
		if strings.EqualFold(p.Name, ns) {
			page = p
			break
		}
	}
	if page == nil {
		return Tag{}, fmt.Errorf("element %s: unknown namespace %q", name.Local, name.Space)
	}
	if strings.HasPrefix(name.Local, "_") {
		v, err := strconv.ParseUint(name.Local[1:], 16, 8)
		if err != nil || v < 0x05 || v > 0x3F {
			return Tag{}, fmt.Errorf("element %s: bad token form", name.Local)
		}
		return Tag{Page: page.ID, Token: uint8(v)}, nil
	}
	for i, n := range page.tags {
		if n != "" && strings.EqualFold(n, name.Local) {
			return Tag{Page: page.ID, Token: uint8(i + 0x05)}, nil
		}
	}
	return Tag{}, fmt.Errorf("element %s: not in code page %s", name.Local, page.Name)
}
