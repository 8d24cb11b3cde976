package wbxml

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

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
