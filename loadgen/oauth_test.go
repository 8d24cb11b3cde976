package loadgen

import (
	"errors"
	"strings"
	"testing"
)

// TestMixAuth: mix.auth mixes Basic and OAuth devices; unknown modes are
// refused naming the field; OAuth devices sign in through the target's
// /proxyservice (OAU-05).
func TestMixAuth(t *testing.T) {
	src := strings.Replace(goodSpec, `  versions: {"14.1": 70, "16.1": 30}`, `  versions: {"14.1": 70, "16.1": 30}`+"\n  auth: {basic: 1, oauth: 1}", 1)
	s, err := ParseSpec([]byte(src))
	if err != nil || s.Mix.Auth["oauth"] != 1 {
		t.Fatalf("%v %+v", err, s)
	}
	_, err = ParseSpec([]byte(strings.Replace(src, "oauth: 1", "ntlm: 1", 1)))
	var fe *FieldError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "mix.auth.ntlm") {
		t.Fatalf("unknown auth mode: %v", err)
	}
	if c := oauthThrough("https://gw.example:8443/"); c.AuthorityURL != "https://gw.example:8443/proxyservice" || c.Resource != "https://gw.example:8443" {
		t.Fatalf("%+v", c)
	}
}
