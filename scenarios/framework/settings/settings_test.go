package settings

import (
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// Every field of Settings is declared in the table, once.
func TestEveryFieldIsDeclaredOnce(t *testing.T) {
	var s Settings
	seen := map[uintptr]string{}
	for _, st := range table {
		p := reflect.ValueOf(st.field(&s)).Pointer()
		if other, ok := seen[p]; ok {
			t.Errorf("%s and %s set the same field", st.env, other)
		}
		seen[p] = st.env
	}
	if n := reflect.TypeOf(s).NumField(); len(seen) != n {
		t.Errorf("%d settings declared for %d fields of Settings", len(seen), n)
	}
}

func TestFromEnvDefaultsAndOverrides(t *testing.T) {
	s, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.UEMListen != "127.0.0.1:8600" || s.GatewayID != "gw1" || s.Timeout != 15*time.Second || s.SpecTimeout != 5*time.Minute || s.ReadyTimeout != time.Minute || s.GatewayURL != "" {
		t.Errorf("defaults %+v", s)
	}
	s, err = FromEnv(env(map[string]string{"GATEHOUSE_GATEWAY_URL": "https://127.0.0.1:8443", "GATEHOUSE_EVENTUALLY_TIMEOUT": "30s",
		"GATEHOUSE_UEM_ADMIN_TOKEN": "tok"}))
	if err != nil || s.GatewayURL != "https://127.0.0.1:8443" || s.Timeout != 30*time.Second || s.UEMAdminToken != "tok" {
		t.Errorf("from the environment %+v, %v", s, err)
	}
	if _, err := FromEnv(env(map[string]string{"GATEHOUSE_SPEC_TIMEOUT": "soon"})); err == nil || !strings.Contains(err.Error(), "GATEHOUSE_SPEC_TIMEOUT") {
		t.Errorf("a bad duration: %v, want an error naming the variable", err)
	}
}

// Flags default to the environment and win over it; tokens have no flag;
// skipped flags are not added.
func TestAddFlags(t *testing.T) {
	s, _ := FromEnv(env(map[string]string{"GATEHOUSE_RESTART_CMD": "from-env", "GATEHOUSE_KILL_CMD": "kill-from-env"}))
	fs := flag.NewFlagSet("suite", flag.ContinueOnError)
	s.AddFlags(fs, "results-dir")
	if err := fs.Parse([]string{"-restart-cmd", "from-flag", "-ready-timeout", "2m"}); err != nil {
		t.Fatal(err)
	}
	if s.RestartCmd != "from-flag" || s.KillCmd != "kill-from-env" || s.ReadyTimeout != 2*time.Minute {
		t.Errorf("after the flags %+v", s)
	}
	for _, name := range []string{"results-dir", "uem-admin-token", "exchange-admin-token"} {
		if fs.Lookup(name) != nil {
			t.Errorf("flag -%s exists", name)
		}
	}
	if f := fs.Lookup("gateway-url"); f == nil || !strings.Contains(f.Usage, "(env GATEHOUSE_GATEWAY_URL)") {
		t.Errorf("gateway-url flag %+v", f)
	}
	if f := fs.Lookup("kill-cmd"); f.DefValue != "" {
		t.Errorf("help shows %q as the default of -kill-cmd: the environment's value, not the declared default", f.DefValue)
	}
	if f := fs.Lookup("spec-timeout"); f.DefValue != "5m0s" {
		t.Errorf("-spec-timeout default %q", f.DefValue)
	}
}

// What Environ writes, FromEnv reads back.
func TestEnvironRoundTrip(t *testing.T) {
	want := Settings{GatewayURL: "https://127.0.0.1:8443", RestartCmd: "docker restart x", UEMAdminToken: "tok", GatewayID: "gw9",
		UEMListen: "127.0.0.1:1", UEMAdmin: "127.0.0.1:2", ExchangeAddr: "127.0.0.1:3", GatewayToken: "t", NotifySecret: "s",
		Timeout: 3 * time.Second, SpecTimeout: time.Hour, ReadyTimeout: time.Second}
	m := map[string]string{}
	for _, kv := range want.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	got, err := FromEnv(env(m))
	if err != nil || got != want {
		t.Errorf("round trip:\n got %+v, %v\nwant %+v", got, err, want)
	}
	if e := (Settings{}).Environ(); len(e) != 0 {
		t.Errorf("zero settings give %q", e)
	}
}
