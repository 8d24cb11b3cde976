package oauth

import (
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestKeysURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://login.windows.net/common/oauth2/token":         "https://login.windows.net/common/discovery/keys",
		"https://login.microsoftonline.com/t/oauth2/v2.0/token": "https://login.microsoftonline.com/t/discovery/v2.0/keys",
		"https://idp.example/token/":                            "https://idp.example/token/keys",
	} {
		if got := KeysURL(in); got != want {
			t.Errorf("KeysURL(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestOAU04ResourceSwap: the Sentry resource (configured, or derived from
// the Host with or without its port) becomes the destination resource on
// the way out, the Key Value Pairs are added, and a token answer's
// resource is swapped back.
func TestOAU04ResourceSwap(t *testing.T) {
	r := httptest.NewRequest("POST", "https://sentry.example:8443"+TokenPath, nil)
	g := NewGate(uemapi.OAuthSettings{KeyValuePairs: []uemapi.KeyValue{{Key: "prompt", Value: "login"}}}, Options{})
	for _, res := range []string{"https://sentry.example:8443", "https://sentry.example/", "https://SENTRY.example"} {
		v := g.swap(r, map[string][]string{"resource": {res}})
		if v.Get("resource") != "https://outlook.office365.com" || v.Get("prompt") != "login" {
			t.Errorf("%s: %v", res, v)
		}
	}
	if v := g.swap(r, map[string][]string{"resource": {"https://other.example"}}); v.Get("resource") != "https://other.example" {
		t.Errorf("another resource was swapped: %v", v)
	}
	back := g.swapBack(r, []byte(`{"resource":"https://outlook.office365.com/","access_token":"x"}`))
	if string(back) != `{"access_token":"x","resource":"https://sentry.example:8443"}` {
		t.Errorf("swapped back: %s", back)
	}
	fixed := NewGate(uemapi.OAuthSettings{SentryResource: "https://mail-gw.example"}, Options{})
	if v := fixed.swap(r, map[string][]string{"resource": {"https://sentry.example"}}); v.Get("resource") != "https://sentry.example" {
		t.Errorf("with a configured Sentry resource only it is swapped: %v", v)
	}
}
