package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeIsStrictAndNamesTheField(t *testing.T) {
	type inner struct {
		N int `json:"n"`
	}
	type body struct {
		Name  string `json:"name"`
		Inner inner  `json:"inner"`
	}
	for _, tc := range []struct {
		name, in     string
		status       int
		code, field  string
		wantDecoded  bool
		limit        int64
		messageMatch string
	}{
		{name: "ok", in: `{"name":"a","inner":{"n":1}}`, wantDecoded: true},
		{name: "unknown field", in: `{"name":"a","nmae":"b"}`, status: 400, code: CodeInvalidField, field: "nmae"},
		{name: "wrong type", in: `{"inner":{"n":"x"}}`, status: 400, code: CodeInvalidField, field: "inner.n"},
		{name: "not JSON", in: `{"name":`, status: 400, code: CodeInvalidJSON},
		{name: "empty", in: ``, status: 400, code: CodeInvalidJSON},
		{name: "two values", in: `{"name":"a"}{"name":"b"}`, status: 400, code: CodeInvalidJSON, messageMatch: "more than one"},
		{name: "trailing brace", in: `{"name":"a"}}`, status: 400, code: CodeInvalidJSON},
		{name: "too large", in: `{"name":"` + strings.Repeat("x", 100) + `"}`, status: 413, code: CodeBodyTooLarge, limit: 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.limit
			if limit == 0 {
				limit = 1 << 10
			}
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.in))
			var v body
			err := Decode(httptest.NewRecorder(), r, limit, &v)
			if tc.wantDecoded {
				if err != nil || v.Name != "a" || v.Inner.N != 1 {
					t.Fatalf("decoded %+v, %v", v, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status || e.Code != tc.code || e.Field != tc.field || !strings.Contains(e.Message, tc.messageMatch) {
				t.Fatalf("got %v (%+v), want %d %s field %q", err, e, tc.status, tc.code, tc.field)
			}
		})
	}
}
