package wbxml

import (
	"errors"
	"fmt"
	"reflect"
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
