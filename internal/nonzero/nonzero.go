// Package nonzero fills every exported field of a value with a non-zero
// value, recursively, so that a round-trip test of a hand-written codec
// notices a field the codec drops: a field added to the type is filled
// too, and comes back zero if the codec does not know it.
package nonzero

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Fill sets every exported field reachable from ptr (a non-nil pointer)
// to a non-zero value distinct per field path: strings name their path
// and carry characters JSON escapes, numbers count up, bools are true,
// slices and maps get one element, pointers a filled value. Fields tagged
// json:"-" are left alone. A kind it cannot fill (interface, chan, func,
// complex) fails the test, so a new field cannot slip past unfilled.
func Fill(tb testing.TB, ptr any) {
	tb.Helper()
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		tb.Fatalf("nonzero.Fill: want a non-nil pointer, got %T", ptr)
	}
	f := filler{}
	if err := f.fill(v.Elem(), v.Elem().Type().Name()); err != nil {
		tb.Fatalf("nonzero.Fill(%T): %v", ptr, err)
	}
}

type filler struct{ n int }

var timeType = reflect.TypeFor[time.Time]()

func (f *filler) fill(v reflect.Value, path string) error {
	f.n++
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Date(2030, 1, 2, 3, 4, 5, f.n, time.UTC)))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		// Quotes, a backslash, HTML characters and non-ASCII: the escapes
		// a hand-written JSON codec must get right.
		v.SetString(fmt.Sprintf(`%s "q" \ <&> é %d`, path, f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.n % 100))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(f.n % 100))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.n%100) + 0.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		return f.fill(v.Elem(), path)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		return f.fill(v.Index(0), path+"[0]")
	case reflect.Array:
		for i := range v.Len() {
			if err := f.fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		k := reflect.New(v.Type().Key()).Elem()
		if err := f.fill(k, path+".key"); err != nil {
			return err
		}
		e := reflect.New(v.Type().Elem()).Elem()
		if err := f.fill(e, path+".value"); err != nil {
			return err
		}
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() || strings.Split(sf.Tag.Get("json"), ",")[0] == "-" {
				continue
			}
			if err := f.fill(v.Field(i), path+"."+sf.Name); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("%s: cannot fill a %s", path, v.Kind())
	}
	return nil
}

// ZeroFields returns the paths of the exported fields of v (a struct or a
// pointer to one) that hold their zero value, descending into structs.
func ZeroFields(v any) []string {
	var out []string
	var walk func(reflect.Value, string)
	walk = func(v reflect.Value, path string) {
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct || v.Type() == timeType {
			if v.IsZero() {
				out = append(out, path)
			}
			return
		}
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() {
				walk(v.Field(i), path+"."+sf.Name)
			}
		}
	}
	rv := reflect.ValueOf(v)
	walk(rv, reflect.Indirect(rv).Type().Name())
	return out
}
