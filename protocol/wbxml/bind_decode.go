package wbxml

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

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
