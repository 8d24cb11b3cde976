package uemapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Issue 18: a configuration document with a field the gateway does not
// know (a typo, or a setting it cannot apply) is refused, naming the
// field, rather than silently dropped: dropping "chek_crl" would leave
// revocation unchecked. Other responses stay lenient (fields may be
// added within v1).
func TestConfigDocumentRejectsUnknownFields(t *testing.T) {
	docs := map[string]string{
		"/api/v1/config":       `{"gateway_id":"gw1","version":3,"config":{"device_auth":{"mode":"identity_certificate","chek_crl":true}},"default_policy_behavior":"apply_server_policy"}`,
		"/api/v1/connectivity": `{"api_version":"v1","gateway_id":"gw1","enabled":true,"added_later":1}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(docs[r.URL.Path]))
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, "gw1-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Config(context.Background(), "")
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidField || e.Field != "chek_crl" {
		t.Fatalf("config with a typo: %v, want invalid_field chek_crl", err)
	}
	if _, err := c.Connectivity(context.Background()); err != nil {
		t.Fatalf("a response with an added field: %v", err)
	}
	for name, in := range map[string]string{
		"unknown top-level": `{"gateway_id":"gw1","version":1,"config":{},"extra":true}`,
		"two documents":     `{"gateway_id":"gw1"}{"gateway_id":"gw2"}`,
	} {
		if _, err := DecodeConfigDocument(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if d, err := DecodeConfigDocument(strings.NewReader(`{"gateway_id":"gw1","version":1,"config":{"kerberos":{"realm":"R","kdc_proxy_realms":["E"]}}}`)); err != nil || d.Config.Kerberos.KDCProxyRealms[0] != "E" {
		t.Fatalf("a good document: %+v %v", d, err)
	}
}
