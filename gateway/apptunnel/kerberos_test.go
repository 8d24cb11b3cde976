package apptunnel

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// fakeKDC stands for the delegation: it records what it was asked.
type fakeKDC struct {
	mu    sync.Mutex
	asked []string
	fail  bool
}

func (k *fakeKDC) NegotiateHeader(_ context.Context, upn, spn string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.asked = append(k.asked, upn+" -> "+spn)
	if k.fail {
		return "", errors.New("KDC unreachable")
	}
	return "Negotiate dGlja2V0", nil
}

func TestATS11KerberosServerAuthOnHTTPTunnels(t *testing.T) {
	kdc := &fakeKDC{}
	w := newWorld(t, func(w *world) { w.kerberos = kdc })
	hp := w.backendHostPort()
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) {
		at.Services[0].ServerAuth = uemapi.AuthKerberos // Intranet, no SPN list: the server's name (ATS-12)
		at.Services[1].ServerAuth = uemapi.AuthKerberos // <ANY>: the host asked for (ATS-13)
		at.Services = append(at.Services, uemapi.AppTunnelService{Name: "Paired", Servers: hp, SPNs: "HTTP/web.corp.example", ServerAuth: uemapi.AuthKerberos})
	})
	_, _, echo := w.get("http://"+hp+"/", map[string]string{HeaderAppID: "com.a", "Authorization": "Basic app-secret"})
	if echo["Authorization"] != "Negotiate dGlja2V0" {
		t.Fatalf("server saw Authorization %q, want the delegated ticket", echo["Authorization"])
	}
	w.get("http://localhost:"+portOf(hp)+"/", map[string]string{HeaderAppID: "com.a", HeaderService: "<ANY>"})
	w.get("http://Paired/", map[string]string{HeaderAppID: "com.a", HeaderService: "Paired"})
	want := []string{"alice@corp.example -> HTTP/127.0.0.1", "alice@corp.example -> HTTP/localhost", "alice@corp.example -> HTTP/web.corp.example"}
	kdc.mu.Lock()
	got := append([]string(nil), kdc.asked...)
	kdc.fail = true
	kdc.mu.Unlock()
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("tickets asked %q, want %q", got, want)
	}
	if code, why, _ := w.get("http://"+hp+"/", app("com.a")); code != http.StatusBadGateway || why != string(ReasonKerberos) {
		t.Fatalf("KDC down: %d %q", code, why)
	}
}

func portOf(hp string) string {
	_, p := splitPort(hp)
	return itoa(p)
}
