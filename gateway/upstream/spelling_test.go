package upstream

import (
	"net"
	"net/http"
	"testing"
)

// TestKRB02_UpdateKeepsTheServerListsSpelling: a server listed again with
// its host in another case keeps its health, but the gateway must use the
// host as the list now writes it: the Kerberos SPN is derived from it
// exactly, and SPNs are case-sensitive (KRB-02).
func TestKRB02_UpdateKeepsTheServerListsSpelling(t *testing.T) {
	a := newExchange(t, "a", false)
	_, port, _ := net.SplitHostPort(a.addr())
	svc := service("default", a)
	svc.Servers = "localhost:" + port
	r := newRouter(t, asConfig(svc), defaultMgmt(), defaultTimeouts(), Options{})
	svc.Servers = "LOCALHOST:" + port
	if err := r.Update(asConfig(svc), defaultMgmt(), defaultTimeouts()); err != nil {
		t.Fatal(err)
	}
	if got := r.Route(&http.Request{Host: "gw"}).FirstServer().Addr(); got != "LOCALHOST:"+port {
		t.Fatalf("the server is %q after the update, want the list's new spelling LOCALHOST:%s", got, port)
	}
}
