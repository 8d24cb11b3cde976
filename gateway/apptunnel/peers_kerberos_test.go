package apptunnel

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// TestPeersMITKerberosAppThroughTheTunnel is ATS-17 with real peers: MIT
// kinit gets alice's TGT from the fake KDC and curl, as the app, gets a
// ticket for HTTP/localhost (the gateway's principal) through GSS-API and
// sends it in Proxy-Authorization: Negotiate after the listener's 407,
// without a client certificate.
func TestPeersMITKerberosAppThroughTheTunnel(t *testing.T) {
	peers.Require(t, "kinit", "krb5-user")
	bin := peers.Require(t, "curl", "curl")
	k := newKrbWorld(t)
	if err := k.kdc.AddPrincipal(kdcPrincipal("HTTP/localhost", "gw-local-secret")); err != nil {
		t.Fatal(err)
	}
	d, err := delegation.New(uemapi.KerberosConfig{Realm: "CORP.EXAMPLE", ServicePrincipal: "HTTP/localhost", Password: "gw-local-secret", KDCs: k.kdc.Addr()},
		delegation.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, func(w *world) { w.acceptor = d })
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) { at.DeviceAuth = uemapi.AppAuthKerberos })
	dir := t.TempDir()
	conf := strings.Replace(k.kdc.Krb5Conf(), "[libdefaults]\n", "[libdefaults]\n  dns_canonicalize_hostname = false\n  udp_preference_limit = 1\n", 1)
	must(t, os.WriteFile(filepath.Join(dir, "krb5.conf"), []byte(conf), 0o600))
	env := append(os.Environ(), "KRB5_CONFIG="+filepath.Join(dir, "krb5.conf"), "KRB5CCNAME=FILE:"+filepath.Join(dir, "ccache"),
		"KRB5_KTNAME=FILE:"+filepath.Join(dir, "none.keytab"), "KRB5_TRACE=/dev/null")
	run := func(stdin, name string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	if out, err := run("alice-pw\n", "kinit", "alice@CORP.EXAMPLE"); err != nil {
		t.Fatalf("kinit: %v\n%s", err, out)
	}
	_, port := splitPort(w.addr)
	curl := func(extra ...string) (string, error) {
		args := append([]string{"-sS", "--max-time", "20", "--proxy", "https://localhost:" + itoa(port), "--proxy-insecure",
			"--proxy-header", HeaderAppID + ": com.curl.krb", "--proxy-header", HeaderDeviceUUID + ": " + testUUID}, extra...)
		return run("", bin, args...)
	}
	target := "http://" + w.backendHostPort() + "/krb"
	if out, _ := curl("-o", "/dev/null", "-w", "%{http_code}", target); out != "407" {
		t.Fatalf("curl without Kerberos: %q, want 407", out)
	}
	out, err := curl("--proxy-negotiate", "-U", ":", target)
	if err != nil || !strings.Contains(out, `"Path":"/krb"`) {
		t.Fatalf("curl --proxy-negotiate (absolute-form): %v %q", err, out)
	}
	out, err = curl("--proxy-negotiate", "-U", ":", "--proxytunnel", target)
	if err != nil || !strings.Contains(out, `"Path":"/krb"`) {
		t.Fatalf("curl --proxy-negotiate --proxytunnel (CONNECT): %v %q", err, out)
	}
}
