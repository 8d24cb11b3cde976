package wbxml

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Struct binding maps Go structs to element trees, in the manner of
// encoding/xml. A field's tag names its element:
//
//	Status   int          `wbxml:"Status"`                      // page of the parent element
//	Body     *Body        `wbxml:"AirSyncBase:Body,omitempty"`  // another page
//	Folders  []Folder     `wbxml:"Folders>Folder"`             // wrapper element, repeated items
//	Wipe     bool         `wbxml:"RemoteWipe,empty"`            // present or absent, no content
//	Mime     []byte       `wbxml:"ComposeMail:Mime"`            // []byte is opaque data
//	Data     *wbxml.Node  `wbxml:"ApplicationData"`             // kept as a raw subtree
//	Unknown  []*wbxml.Node `wbxml:",any"`                       // children no field claims
//
// A field named XMLName carries the element's own tag (`wbxml:"AirSync:Sync"`).
// Fields are written in declaration order, which is how MS-ASCMD element
// order is kept; unknown children are written after them. Options:
// omitempty (skip zero values), empty (bool as presence), opaque and string
// (force the content kind). Strings, []byte, integers and bools ("0"/"1")
// are leaves; structs and pointers to them are elements.

// MarshalStruct encodes a struct that has an XMLName field as a document.
func MarshalStruct(v any) ([]byte, error) {
	n, err := StructToNode(v)
	if err != nil {
		return nil, err
	}
	return Marshal(n)
}

// UnmarshalStruct decodes a document into a struct that has an XMLName field.
func UnmarshalStruct(data []byte, v any, lim Limits) error {
	doc, err := Parse(data, lim)
	if err != nil {
		return err
	}
	return NodeToStruct(doc.Root, v)
}

// StructToNode builds the element tree for a struct with an XMLName field.
func StructToNode(v any) (*Node, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, errors.New("wbxml: StructToNode of nil pointer")
		}
		rv = rv.Elem()
	}
	root, ok := rootTag(rv.Type())
	if !ok {
		return nil, fmt.Errorf("wbxml: %s has no XMLName field naming its element", rv.Type())
	}
	n := &Node{Tag: root}
	if err := encodeStruct(n, rv, root.Page); err != nil {
		return nil, err
	}
	return n, nil
}

// NodeToStruct fills a struct (pointer) from a tree; the root tag must match
// the struct's XMLName.
func NodeToStruct(n *Node, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("wbxml: NodeToStruct needs a non-nil pointer")
	}
	rv = rv.Elem()
	root, ok := rootTag(rv.Type())
	if !ok {
		return fmt.Errorf("wbxml: %s has no XMLName field naming its element", rv.Type())
	}
	if n.Tag != root {
		return fmt.Errorf("wbxml: document root is %s, want %s", n.Tag, root)
	}
	return decodeStruct(n, rv, root.Page)
}

type fieldKind uint8

const (
	kindText fieldKind = iota
	kindOpaque
	kindInt
	kindUint
	kindBool
	kindPresence
	kindStruct
	kindNode
	kindAny
)

type fieldInfo struct {
	name      string // Go field name, for errors
	index     int
	tag       Tag
	wrapper   *Tag // set for "Wrapper>Item" fields
	kind      fieldKind
	omitempty bool
	slice     bool
	ptr       bool
	elem      reflect.Type // the element type after slice and pointer
}

type typeInfo struct {
	fields []fieldInfo
	anyIdx int // index into fields of the ",any" field, or -1
	byTag  map[Tag]int
}

type typeKey struct {
	t    reflect.Type
	page uint8
}

// typeCache holds parsed struct tags per (type, default page); like
// encoding/json's cache it only ever grows with the program's types.
var typeCache sync.Map

var nodePtrType = reflect.TypeOf((*Node)(nil))

func rootTag(t reflect.Type) (Tag, bool) {
	if t.Kind() != reflect.Struct {
		return Tag{}, false
	}
	f, ok := t.FieldByName("XMLName")
	if !ok {
		return Tag{}, false
	}
	tag, _, err := parseTagName(strings.Split(f.Tag.Get("wbxml"), ",")[0], 0xFF)
	return tag, err == nil
}

// parseTagName resolves "Page:Name" or "Name" (in defaultPage).
func parseTagName(s string, defaultPage uint8) (Tag, uint8, error) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		t, ok := TagByName(s)
		if !ok {
			return Tag{}, 0, fmt.Errorf("unknown tag %q", s)
		}
		return t, t.Page, nil
	}
	p := pageByID(defaultPage)
	if p == nil {
		return Tag{}, 0, fmt.Errorf("tag %q needs a code page prefix", s)
	}
	t, ok := TagByName(p.Name + ":" + s)
	if !ok {
		return Tag{}, 0, fmt.Errorf("unknown tag %q in code page %s", s, p.Name)
	}
	return t, t.Page, nil
}

func getTypeInfo(t reflect.Type, page uint8) (*typeInfo, error) {
	key := typeKey{t, page}
	if ti, ok := typeCache.Load(key); ok {
		return ti.(*typeInfo), nil
	}
	ti := &typeInfo{anyIdx: -1, byTag: make(map[Tag]int)}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		spec, ok := sf.Tag.Lookup("wbxml")
		if !ok || sf.Name == "XMLName" || spec == "-" {
			continue
		}
		fi, err := parseField(sf, i, spec, page)
		if err != nil {
			return nil, fmt.Errorf("wbxml: %s.%s: %w", t, sf.Name, err)
		}
		if fi.kind == kindAny {
			ti.anyIdx = len(ti.fields)
		} else {
			key := fi.tag
			if fi.wrapper != nil {
				key = *fi.wrapper
			}
			if _, dup := ti.byTag[key]; dup {
				return nil, fmt.Errorf("wbxml: %s.%s: element %s claimed twice", t, sf.Name, key)
			}
			ti.byTag[key] = len(ti.fields)
		}
		ti.fields = append(ti.fields, fi)
	}
	typeCache.Store(key, ti)
	return ti, nil
}

func parseField(sf reflect.StructField, index int, spec string, page uint8) (fieldInfo, error) {
	parts := strings.Split(spec, ",")
	fi := fieldInfo{name: sf.Name, index: index}
	force := ""
	for _, o := range parts[1:] {
		switch o {
		case "omitempty":
			fi.omitempty = true
		case "empty":
			fi.kind = kindPresence
		case "opaque", "string":
			force = o
		case "any":
			if sf.Type != reflect.TypeOf([]*Node(nil)) {
				return fi, errors.New(",any needs type []*wbxml.Node")
			}
			fi.kind = kindAny
			return fi, nil
		default:
			return fi, fmt.Errorf("unknown option %q", o)
		}
	}
	name := parts[0]
	if w, item, ok := strings.Cut(name, ">"); ok {
		wt, wpage, err := parseTagName(w, page)
		if err != nil {
			return fi, err
		}
		fi.wrapper = &wt
		name, page = item, wpage
	}
	t, _, err := parseTagName(name, page)
	if err != nil {
		return fi, err
	}
	fi.tag = t
	ft := sf.Type
	if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 {
		fi.slice = true
		ft = ft.Elem()
	}
	if ft == nodePtrType {
		fi.kind, fi.elem = kindNode, ft
		return fi, nil
	}
	if ft.Kind() == reflect.Pointer {
		fi.ptr = true
		ft = ft.Elem()
	}
	fi.elem = ft
	if fi.kind == kindPresence {
		if ft.Kind() != reflect.Bool || fi.slice {
			return fi, errors.New(",empty needs a bool")
		}
		return fi, nil
	}
	switch ft.Kind() {
	case reflect.String:
		fi.kind = kindText
		if force == "opaque" {
			fi.kind = kindOpaque
		}
	case reflect.Slice: // []byte
		fi.kind = kindOpaque
		if force == "string" {
			fi.kind = kindText
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fi.kind = kindInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		fi.kind = kindUint
	case reflect.Bool:
		fi.kind = kindBool
	case reflect.Struct:
		fi.kind = kindStruct
	default:
		return fi, fmt.Errorf("unsupported type %s", sf.Type)
	}
	return fi, nil
}

func encodeStruct(parent *Node, rv reflect.Value, page uint8) error {
	ti, err := getTypeInfo(rv.Type(), page)
	if err != nil {
		return err
	}
	for i := range ti.fields {
		fi := &ti.fields[i]
		fv := rv.Field(fi.index)
		if fi.kind == kindAny {
			parent.Children = append(parent.Children, fv.Interface().([]*Node)...)
			continue
		}
		target := parent
		if fi.wrapper != nil {
			if fv.Len() == 0 && fi.omitempty {
				continue
			}
			target = &Node{Tag: *fi.wrapper}
			parent.Children = append(parent.Children, target)
		}
		if fi.slice {
			for j := 0; j < fv.Len(); j++ {
				if err := encodeValue(target, fi, fv.Index(j)); err != nil {
					return err
				}
			}
			continue
		}
		if fi.omitempty && fv.IsZero() {
			continue
		}
		if err := encodeValue(target, fi, fv); err != nil {
			return err
		}
	}
	return nil
}

func encodeValue(parent *Node, fi *fieldInfo, v reflect.Value) error {
	if fi.kind == kindNode {
		if n := v.Interface().(*Node); n != nil {
			parent.Children = append(parent.Children, n)
		}
		return nil
	}
	if fi.ptr {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	n := &Node{Tag: fi.tag}
	switch fi.kind {
	case kindPresence:
		if !v.Bool() {
			return nil
		}
	case kindText:
		// An empty string is written as an empty element (<Tag/>), the form
		// ActiveSync peers and libwbxml use, so <Tag/> survives a round trip.
		if v.Len() > 0 {
			n.Content = []byte(v.String())
		}
	case kindOpaque:
		if v.Kind() == reflect.String {
			n.Content = []byte(v.String())
		} else {
			n.Content = v.Bytes()
			if n.Content == nil {
				n.Content = []byte{}
			}
		}
		n.Opaque = true
	case kindInt:
		n.Content = strconv.AppendInt(nil, v.Int(), 10)
	case kindUint:
		n.Content = strconv.AppendUint(nil, v.Uint(), 10)
	case kindBool:
		n.Content = []byte{'0'}
		if v.Bool() {
			n.Content[0] = '1'
		}
	case kindStruct:
		if err := encodeStruct(n, v, fi.tag.Page); err != nil {
			return err
		}
	}
	parent.Children = append(parent.Children, n)
	return nil
}

func decodeStruct(n *Node, rv reflect.Value, page uint8) error {
	ti, err := getTypeInfo(rv.Type(), page)
	if err != nil {
		return err
	}
	var seen []bool
	for _, c := range n.Children {
		idx, ok := ti.byTag[c.Tag]
		if !ok {
			if err := keepUnknown(ti, rv, c); err != nil {
				return err
			}
			continue
		}
		fi := &ti.fields[idx]
		fv := rv.Field(fi.index)
		if !fi.slice {
			if seen == nil {
				seen = make([]bool, len(ti.fields))
			}
			// A repeated singular element is kept, not silently dropped,
			// unless the first one decoded to a zero value that omitempty
			// will not write: then the repeat takes its place, so that
			// decode, encode, decode gives the same struct twice.
			if seen[idx] && !(fi.omitempty && fv.IsZero()) {
				if err := keepUnknown(ti, rv, c); err != nil {
					return err
				}
				continue
			}
			seen[idx] = true
		}
		items := []*Node{c}
		if fi.wrapper != nil {
			items = items[:0]
			for _, gc := range c.Children {
				if gc.Tag == fi.tag {
					items = append(items, gc)
				}
			}
		}
		for _, it := range items {
			if err := decodeInto(it, fi, fv); err != nil {
				return fmt.Errorf("%s: %w", it.Tag, err)
			}
		}
	}
	return nil
}

func keepUnknown(ti *typeInfo, rv reflect.Value, c *Node) error {
	if ti.anyIdx < 0 {
		return nil
	}
	fv := rv.Field(ti.fields[ti.anyIdx].index)
	fv.Set(reflect.Append(fv, reflect.ValueOf(c)))
	return nil
}

func decodeInto(n *Node, fi *fieldInfo, fv reflect.Value) error {
	if fi.kind == kindNode {
		if fi.slice {
			fv.Set(reflect.Append(fv, reflect.ValueOf(n)))
		} else {
			fv.Set(reflect.ValueOf(n))
		}
		return nil
	}
	v := reflect.New(fi.elem).Elem()
	if err := decodeLeaf(n, fi, v); err != nil {
		return err
	}
	if fi.ptr {
		p := reflect.New(fi.elem)
		p.Elem().Set(v)
		v = p
	}
	if fi.slice {
		fv.Set(reflect.Append(fv, v))
	} else {
		fv.Set(v)
	}
	return nil
}

func decodeLeaf(n *Node, fi *fieldInfo, v reflect.Value) error {
	if fi.kind == kindStruct {
		if len(n.Content) > 0 {
			return errors.New("expected child elements, found content")
		}
		return decodeStruct(n, v, fi.tag.Page)
	}
	if len(n.Children) > 0 && fi.kind != kindPresence {
		return errors.New("expected content, found child elements")
	}
	s := strings.TrimSpace(string(n.Content))
	switch fi.kind {
	case kindPresence:
		v.SetBool(true)
	case kindText:
		// Opaque data may hold NUL, which an inline string cannot carry:
		// reject it here rather than fail when the struct is re-encoded.
		if bytes.IndexByte(n.Content, 0) >= 0 {
			return fmt.Errorf("text contains NUL: %q", clip(n.Content))
		}
		v.SetString(string(n.Content))
	case kindOpaque:
		if v.Kind() == reflect.String {
			v.SetString(string(n.Content))
		} else {
			v.SetBytes(n.Content)
		}
	case kindInt:
		i, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("not an integer: %q", clip(n.Content))
		}
		v.SetInt(i)
	case kindUint:
		u, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("not an unsigned integer: %q", clip(n.Content))
		}
		v.SetUint(u)
	case kindBool:
		switch s {
		case "1", "true":
			v.SetBool(true)
		case "0", "false", "":
			v.SetBool(false)
		default:
			return fmt.Errorf("not a boolean: %q", clip(n.Content))
		}
	}
	return nil
}
