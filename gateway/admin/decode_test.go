package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
)

// Issue 18: a request body with a field the API does not take is refused
// (400, naming the field) and does nothing: {"all": false, "device_ids":
// ...} must not be read as a purge of no device, nor {"alow": false} as
// a fail-open switch without a value.
func TestRequestBodiesRejectUnknownFields(t *testing.T) {
	e := newEnv(t)
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "A", User: "u"}, State: devicecache.Allowed, Validated: true})
	for _, c := range []struct {
		method, path, body, field string
	}{
		{http.MethodPost, "device-cache/purge", `{"all":true,"device_ids":["A"]}`, "device_ids"},
		{http.MethodPost, "clear-redirect-url", `{"all":true,"usr":"u"}`, "usr"},
		{http.MethodPut, "emm-fail-open", `{"allow":false,"alow":true}`, "alow"},
		{http.MethodPost, "crl-cache/purge", `{"id":"all","ids":["x"]}`, "ids"},
		{http.MethodPost, "kerberos-cache/purge", `{"upn":"a@b","upns":[]}`, "upns"},
		{http.MethodPost, "kerberos/kdc", `{"host":"kdc","port":88,"timeout":1}`, "timeout"},
		{http.MethodPost, "device-cache/purge", `{"all":true}{"all":true}`, "more than one"},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), c.method, e.c.base+Prefix+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := e.c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), c.field) {
			t.Errorf("%s %s %s: HTTP %d %s, want 400 naming %q", c.method, c.path, c.body, resp.StatusCode, b, c.field)
		}
	}
	if e.cache.Len() != 1 {
		t.Fatal("a refused purge purged")
	}
	if !e.link.FailOpen() {
		t.Fatal("a refused fail-open switch switched")
	}
}
