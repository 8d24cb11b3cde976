package wbxml

import (
	"reflect"
	"strconv"
)

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
