package kdc

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/peers"
)

// mitEnv is a private krb5.conf and credential cache for MIT tools.
type mitEnv struct {
	t   *testing.T
	dir string
	env []string
}

// newMITEnv needs MIT's client tools: without them the test skips
// loudly, or fails under GATEHOUSE_REQUIRE_PEERS=1 (.ci/run).
func newMITEnv(t *testing.T, s *Server, extra string) *mitEnv {
	t.Helper()
	peers.Require(t, "kinit", "krb5-user")
	peers.Require(t, "klist", "krb5-user")
	dir := t.TempDir()
	conf := strings.Replace(s.Krb5Conf(), "[libdefaults]\n", "[libdefaults]\n"+extra, 1)
	if err := os.WriteFile(filepath.Join(dir, "krb5.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "KRB5_CONFIG="+filepath.Join(dir, "krb5.conf"), "KRB5CCNAME=FILE:"+filepath.Join(dir, "ccache"),
		"KRB5_KTNAME=FILE:"+filepath.Join(dir, "none.keytab"), "KRB5_TRACE=/dev/null")
	return &mitEnv{t: t, dir: dir, env: env}
}

func (m *mitEnv) run(stdin string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = m.env
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// MIT kinit gets a TGT from the fake KDC with a password, over TCP and
// over UDP, answering PREAUTH_REQUIRED with PA-ENC-TIMESTAMP.
func TestKRB04_MITKinitPassword(t *testing.T) {
	s := corpLab(t)
	for _, tc := range []struct {
		name, extra string
		tcp         bool
	}{{"tcp", "  udp_preference_limit = 1\n", true}, {"udp", "", false}} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Stats()
			m := newMITEnv(t, s, tc.extra)
			out, err := m.run("alice-pw\n", "kinit", "alice@"+corp)
			if err != nil {
				t.Fatalf("kinit: %v\n%s", err, out)
			}
			out, err = m.run("", "klist")
			if err != nil || !strings.Contains(out, "Default principal: alice@"+corp) || !strings.Contains(out, "krbtgt/"+corp+"@"+corp) {
				t.Fatalf("klist after kinit: %v\n%s", err, out)
			}
			after := s.Stats()
			if tc.tcp && after.TCP == before.TCP || !tc.tcp && after.UDP == before.UDP {
				t.Fatalf("stats before %+v after %+v: kinit did not use %s", before, after, tc.name)
			}
			if after.AS-before.AS < 2 {
				t.Fatalf("kinit made %d AS requests, want the preauth round trip (2)", after.AS-before.AS)
			}
		})
	}
}

func TestKRB04_MITKinitRefusals(t *testing.T) {
	s := corpLab(t)
	m := newMITEnv(t, s, "")
	if out, err := m.run("wrong\n", "kinit", "alice@"+corp); err == nil || !strings.Contains(out, "Password incorrect") {
		t.Fatalf("kinit with a wrong password: %v\n%s", err, out)
	}
	if err := s.SetState("carol", Disabled); err != nil {
		t.Fatal(err)
	}
	if out, err := m.run("carol-pw\n", "kinit", "carol@"+corp); err == nil || !strings.Contains(out, "revoked") {
		t.Fatalf("kinit for a disabled account: %v\n%s", err, out)
	}
	if out, err := m.run("x\n", "kinit", "ghost@"+corp); err == nil || !strings.Contains(out, "not found in Kerberos database") {
		t.Fatalf("kinit for an unknown principal: %v\n%s", err, out)
	}
}

// KRB-03: the exported keytab is readable by MIT klist and usable by kinit -k.
func TestKRB03_MITKinitWithExportedKeytab(t *testing.T) {
	s := corpLab(t)
	m := newMITEnv(t, s, "")
	b, err := s.KeytabBytes(sentrySPN)
	if err != nil {
		t.Fatal(err)
	}
	kt := filepath.Join(m.dir, "sentry.keytab")
	if err := os.WriteFile(kt, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := m.run("", "klist", "-k", "-e", kt)
	if err != nil || !strings.Contains(out, sentrySPN+"@"+corp+" (aes256-cts-hmac-sha1-96)") || !strings.Contains(out, "arcfour-hmac)") {
		t.Fatalf("klist -k: %v\n%s", err, out)
	}
	if out, err := m.run("", "kinit", "-k", "-t", kt, sentrySPN+"@"+corp); err != nil {
		t.Fatalf("kinit -k: %v\n%s", err, out)
	}
}

// KRB-08 against MIT's client: kvno -U (S4U2Self) and -P (S4U2Proxy), run
// with the service's keytab TGT, get tickets from the fake KDC.
func TestKRB08_MITKvnoS4U(t *testing.T) {
	s := corpLab(t)
	m := newMITEnv(t, s, "")
	peers.Require(t, "kvno", "krb5-user")
	b, err := s.KeytabBytes(sentrySPN)
	if err != nil {
		t.Fatal(err)
	}
	kt := filepath.Join(m.dir, "sentry.keytab")
	if err := os.WriteFile(kt, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := m.run("", "kinit", "-f", "-k", "-t", kt, sentrySPN+"@"+corp); err != nil {
		t.Fatalf("kinit -k: %v\n%s", err, out)
	}
	out, err := m.run("", "kvno", "-k", kt, "-U", "alice", sentrySPN+"@"+corp)
	if err != nil || !strings.Contains(out, sentrySPN+"@"+corp+": kvno = 1") {
		t.Fatalf("kvno -U (S4U2Self): %v\n%s", err, out)
	}
	out, err = m.run("", "kvno", "-U", "alice", "-P", mailSPN+"@"+corp)
	if err != nil || !strings.Contains(out, mailSPN+"@"+corp+": kvno = 1") {
		t.Fatalf("kvno -U -P (S4U2Proxy): %v\n%s", err, out)
	}
	if st := s.Stats(); st.S4U2Self < 1 || st.S4U2Proxy != 1 {
		t.Fatalf("stats %+v, want S4U2Self and one S4U2Proxy", st)
	}
	out, err = m.run("", "kvno", "-U", "alice", "-P", "http/files.corp.example@"+corp)
	if err == nil || !strings.Contains(out, "KDC can't fulfill requested option") {
		t.Fatalf("kvno -P to a target outside the allow-list: %v, want KDC_ERR_BADOPTION\n%s", err, out)
	}
}
