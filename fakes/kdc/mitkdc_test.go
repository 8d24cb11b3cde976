package kdc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/internal/loopback"
	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// mitKDC starts MIT krb5kdc with a fresh db2 realm CORP.EXAMPLE on a
// loopback port, holding the same principals as corpLab. db2 has no
// allowed-to-delegate lists, so S4U2Proxy is refused there: the fake with
// no delegation rights must behave the same.
func mitKDC(t *testing.T) string {
	t.Helper()
	bin := map[string]string{}
	for tool, pkg := range map[string]string{"krb5kdc": "krb5-kdc", "kdb5_util": "krb5-kdc", "kadmin.local": "krb5-admin-server"} {
		bin[tool] = peers.Require(t, tool, pkg) // also looks in /usr/sbin
	}
	dir := t.TempDir()
	// Below the ephemeral range: krb5kdc binds it a moment later, and a
	// port from bind(0) could go to another test package's server first.
	addr, err := loopback.Port()
	if err != nil {
		t.Fatal(err)
	}
	kdcConf := fmt.Sprintf(`[kdcdefaults]
  kdc_listen = %[2]s
  kdc_tcp_listen = %[2]s
[realms]
  %[3]s = {
    database_name = %[1]s/principal
    key_stash_file = %[1]s/stash
    acl_file = %[1]s/kadm5.acl
    kdc_listen = %[2]s
    kdc_tcp_listen = %[2]s
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    max_life = 10h
  }
[logging]
  kdc = FILE:%[1]s/kdc.log
`, dir, addr, corp)
	krbConf := fmt.Sprintf("[libdefaults]\n  default_realm = %s\n[realms]\n  %s = {\n    kdc = %s\n  }\n", corp, corp, addr)
	for name, body := range map[string]string{"kdc.conf": kdcConf, "krb5.conf": krbConf, "kadm5.acl": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "KRB5_KDC_PROFILE="+filepath.Join(dir, "kdc.conf"), "KRB5_CONFIG="+filepath.Join(dir, "krb5.conf"))
	run := func(name string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin[name], args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("kdb5_util", "create", "-s", "-r", corp, "-P", "master-key-for-tests")
	for _, q := range []string{
		"addprinc -pw " + sentryPass + " +ok_to_auth_as_delegate " + sentrySPN,
		"addprinc -pw p HTTP/plain",
		"addprinc -pw mail-secret " + mailSPN,
		"addprinc -pw alice-pw alice",
		"addprinc -pw carol-pw -allow_tix carol",
	} {
		run("kadmin.local", "-r", corp, "-q", q)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin["krb5kdc"], "-n", "-r", corp)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	gomega.NewWithT(t).Eventually(func() error {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	}).WithTimeout(10*time.Second).WithPolling(50*time.Millisecond).Should(gomega.Succeed(), func() string {
		log, _ := os.ReadFile(filepath.Join(dir, "kdc.log"))
		return fmt.Sprintf("krb5kdc not listening on %s; its log:\n%s", addr, log)
	})
	return addr
}

// KRB-08: our S4U client gets the same answers from MIT krb5kdc (db2) and
// from the fake KDC configured alike: a forwardable evidence ticket for an
// ok_to_auth_as_delegate service and also for one without the flag and
// without delegation targets (MIT keeps it forwardable for RBCD),
// KDC_ERR_BADOPTION for S4U2Proxy without delegation rights, and
// CLIENT_REVOKED for a user whose tickets are disallowed.
func TestKRB08_SameAnswersAsMITKrb5kdc(t *testing.T) {
	fake := startKDC(t, corp)
	mustAdd(t, fake, Principal{Name: sentrySPN, Password: sentryPass, OKToAuthAsDelegate: true})
	mustAdd(t, fake, Principal{Name: "HTTP/plain", Password: "p"})
	mustAdd(t, fake, Principal{Name: mailSPN, Password: "mail-secret"})
	mustAdd(t, fake, Principal{Name: "alice", Password: "alice-pw"})
	mustAdd(t, fake, Principal{Name: "carol", Password: "carol-pw", State: Disabled})
	kdcs := map[string]string{"mit": mitKDC(t), "fake": fake.Addr()}

	type outcome struct{ flaggedFwd, plainFwd, proxyCode, revokedCode string }
	results := map[string]outcome{}
	for name, addr := range kdcs {
		client := func(princ, pw string) *kerberos.S4UClient {
			return &kerberos.S4UClient{Principal: princ, Realm: corp, Secret: kerberos.Secret{Password: pw},
				Transport: netTransport{addrs: map[string]string{corp: addr}}}
		}
		var o outcome
		sc := client(sentrySPN, sentryPass)
		ev, err := sc.Self(ctxT(t), kerberos.PrincipalFromSPN("alice"), corp)
		if err != nil {
			t.Fatalf("%s: S4U2Self: %v", name, err)
		}
		if ev.Client.PrincipalNameString() != "alice" || ev.Ticket.SName.PrincipalNameString() != sentrySPN {
			t.Fatalf("%s: evidence ticket %s -> %s", name, ev.Client.PrincipalNameString(), ev.Ticket.SName.PrincipalNameString())
		}
		o.flaggedFwd = fmt.Sprint(ev.Forwardable())
		_, err = sc.Proxy(ctxT(t), ev, mailSPN)
		o.proxyCode = codeOf(err)
		pev, err := client("HTTP/plain", "p").Self(ctxT(t), kerberos.PrincipalFromSPN("alice"), corp)
		if err != nil {
			t.Fatalf("%s: S4U2Self for an unflagged service: %v", name, err)
		}
		o.plainFwd = fmt.Sprint(pev.Forwardable())
		_, err = sc.Self(ctxT(t), kerberos.PrincipalFromSPN("carol"), corp)
		o.revokedCode = codeOf(err)
		results[name] = o
	}
	want := outcome{flaggedFwd: "true", plainFwd: "true", proxyCode: fmt.Sprint(errorcode.KDC_ERR_BADOPTION), revokedCode: fmt.Sprint(errorcode.KDC_ERR_CLIENT_REVOKED)}
	for name, got := range results {
		if got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
}

func codeOf(err error) string {
	if err == nil {
		return "ok"
	}
	if c, ok := kerberos.ErrorCode(err); ok {
		return fmt.Sprint(c)
	}
	return strings.SplitN(err.Error(), "\n", 2)[0]
}
