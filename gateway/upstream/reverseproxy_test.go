package upstream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// The handler's shape: an httputil.ReverseProxy whose Rewrite points at a
// placeholder upstream, with the Router as its Transport and the service
// pinned from the device's own Host header.
func TestRouterIsTheTransportOfAReverseProxy(t *testing.T) {
	def, one := newExchange(t, "default-exchange", false), newExchange(t, "domain1-exchange", false)
	var gotHost, gotXFH string
	one.setHandler(func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotXFH = r.Host, r.Header.Get("X-Forwarded-Host")
		io.WriteString(w, "domain1-exchange")
	})
	r := newRouter(t, asConfig(service("default", def), service("eas1.example.com", one)), defaultMgmt(), defaultTimeouts(), Options{})
	placeholder, _ := url.Parse("http://exchange.invalid")
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(placeholder)
			pr.SetXForwarded()
			pr.Out = pr.Out.WithContext(WithService(pr.Out.Context(), r.Route(pr.In)))
		},
		Transport: r,
	}
	gw := httptest.NewServer(proxy)
	t.Cleanup(gw.Close)
	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=DEV1&DeviceType=iPhone", nil)
	req.Host = "eas1.example.com"
	req.Header.Set("MS-ASProtocolVersion", "14.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "domain1-exchange" {
		t.Fatalf("device got %q", body)
	}
	if gotHost != one.addr() || gotXFH != "eas1.example.com" {
		t.Fatalf("server saw Host %q, X-Forwarded-Host %q", gotHost, gotXFH)
	}
}
