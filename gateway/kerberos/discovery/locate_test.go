package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
)

// fakeResolver answers from maps; DNS names are case-insensitive.
type fakeResolver struct {
	srv   map[string][]*net.SRV // "_kerberos._tcp.corp.example"
	hosts map[string][]string
	calls []string
}

func (f *fakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	q := strings.ToLower(fmt.Sprintf("_%s._%s.%s", service, proto, name))
	f.calls = append(f.calls, "SRV "+q)
	if s, ok := f.srv[q]; ok {
		return q, s, nil
	}
	return "", nil, &net.DNSError{Err: "no such host", Name: q, IsNotFound: true}
}

func (f *fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	f.calls = append(f.calls, "A "+host)
	if a, ok := f.hosts[strings.ToLower(host)]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func lab() *fakeResolver {
	return &fakeResolver{
		srv: map[string][]*net.SRV{
			"_kerberos._tcp.corp.example": {{Target: "dc2.corp.example.", Port: 88, Priority: 10}, {Target: "dc1.corp.example.", Port: 88, Priority: 0}},
			"_kerberos._udp.corp.example": {{Target: "dc1.corp.example.", Port: 0, Priority: 0}},
			"_kerberos._tcp.emea.example": {{Target: "emea-dc.emea.example.", Port: 8888}},
		},
		hosts: map[string][]string{"kdc.corp.example": {"10.0.0.1"}},
	}
}

func addrs(ts []Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s/%s/%s", t.Source, t.Proto, t.Addr()))
	}
	return out
}

func TestLocateRules(t *testing.T) {
	dnsCorp := []string{"dns/tcp/dc1.corp.example:88", "dns/tcp/dc2.corp.example:88", "dns/udp/dc1.corp.example:88"}
	for _, tc := range []struct {
		name    string
		cfg     Config
		realm   string
		want    []string
		wantErr bool
	}{
		{name: "KDC-01 same realm uses the configured KDC",
			cfg: Config{Realm: "CORP.EXAMPLE", KDCs: []string{"kdc.corp.example;10.0.0.9:750"}}, realm: "CORP.EXAMPLE",
			want: []string{"configured/tcp/kdc.corp.example:88", "configured/tcp/10.0.0.9:750"}},
		{name: "KRB-05 no KDC configured: auto-detect through DNS",
			cfg: Config{Realm: "CORP.EXAMPLE"}, realm: "CORP.EXAMPLE", want: dnsCorp},
		{name: "KDC-02a user realm differs: discovery",
			cfg: Config{Realm: "CORP.EXAMPLE", KDCs: []string{"kdc.corp.example"}}, realm: "EMEA.EXAMPLE",
			want: []string{"dns/tcp/emea-dc.emea.example:8888"}},
		{name: "KDC-02b INC-10 same realm in other case: discovery, not the configured KDC",
			cfg: Config{Realm: "CORP.EXAMPLE", KDCs: []string{"kdc.corp.example"}}, realm: "corp.example", want: dnsCorp},
		{name: "KDC-02c configured KDC does not resolve: discovery",
			cfg: Config{Realm: "CORP.EXAMPLE", KDCs: []string{"gone.corp.example"}}, realm: "CORP.EXAMPLE", want: dnsCorp},
		{name: "KDC-02c only the resolvable configured KDCs are kept",
			cfg: Config{Realm: "CORP.EXAMPLE", KDCs: []string{"gone.corp.example", "kdc.corp.example"}}, realm: "CORP.EXAMPLE",
			want: []string{"configured/tcp/kdc.corp.example:88"}},
		{name: "KDC-07 additional realm KDCs first, then DNS; INC-10 realm name case-insensitive",
			cfg: Config{Realm: "CORP.EXAMPLE", AdditionalRealms: []Realm{{Name: "emea.example", KDCs: []string{"10.1.1.1;[fd00::1]:88"}}}}, realm: "EMEA.EXAMPLE",
			want: []string{"additional/tcp/10.1.1.1:88", "additional/tcp/[fd00::1]:88", "dns/tcp/emea-dc.emea.example:8888"}},
		{name: "KDC-05 KDC-08 discovery disabled: additional realm only",
			cfg: Config{Realm: "CORP.EXAMPLE", DisableDiscovery: true, AdditionalRealms: []Realm{{Name: "EMEA.EXAMPLE", KDCs: []string{"emea-kdc:99"}}}}, realm: "EMEA.EXAMPLE",
			want: []string{"additional/tcp/emea-kdc:99"}},
		{name: "KDC-08 discovery disabled and realm not configured: no KDC",
			cfg: Config{Realm: "CORP.EXAMPLE", DisableDiscovery: true, KDCs: []string{"kdc.corp.example"}}, realm: "EMEA.EXAMPLE", wantErr: true},
		{name: "KDC-08 discovery disabled and configured KDC unresolvable: no KDC",
			cfg: Config{Realm: "CORP.EXAMPLE", DisableDiscovery: true, KDCs: []string{"gone.corp.example"}}, realm: "CORP.EXAMPLE", wantErr: true},
		{name: "KDC-04 nothing in DNS: no KDC",
			cfg: Config{Realm: "CORP.EXAMPLE"}, realm: "APAC.EXAMPLE", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(tc.cfg, lab())
			if err != nil {
				t.Fatal(err)
			}
			l.rnd = func(int) int { return 0 }
			got, err := l.Locate(context.Background(), tc.realm)
			if tc.wantErr {
				if !errors.Is(err, ErrNoKDC) {
					t.Fatalf("Locate = %v, %v; want ErrNoKDC", addrs(got), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(addrs(got), tc.want) {
				t.Fatalf("Locate =\n %v\nwant\n %v", addrs(got), tc.want)
			}
		})
	}
}

// DEF-07: _kerberos._tcp is asked before _kerberos._udp.
func TestDEF07_TCPBeforeUDP(t *testing.T) {
	r := lab()
	l, _ := New(Config{Realm: "CORP.EXAMPLE"}, r)
	if _, err := l.Locate(context.Background(), "CORP.EXAMPLE"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"SRV _kerberos._tcp.corp.example", "SRV _kerberos._udp.corp.example"}; !reflect.DeepEqual(r.calls, want) {
		t.Fatalf("lookups %v, want %v", r.calls, want)
	}
}

// KDC-04: a huge SRV answer is capped.
func TestKDC04_HugeSRVAnswerCapped(t *testing.T) {
	r := lab()
	for i := 0; i < 500; i++ {
		r.srv["_kerberos._tcp.corp.example"] = append(r.srv["_kerberos._tcp.corp.example"], &net.SRV{Target: fmt.Sprintf("k%d.", i), Port: 88, Priority: 5})
	}
	l, _ := New(Config{Realm: "CORP.EXAMPLE", MaxTargets: 8}, r)
	got, err := l.Locate(context.Background(), "CORP.EXAMPLE")
	if err != nil || len(got) != 8 || got[0].Host != "dc1.corp.example" {
		t.Fatalf("Locate = %v, %v; want 8 targets starting with the priority-0 KDC", addrs(got), err)
	}
}

// DEF-07 / RFC 2782: priority ascending; within a priority, weight-proportional choice.
func TestDEF07_OrderSRVPriorityAndWeight(t *testing.T) {
	srvs := []*net.SRV{
		{Target: "b", Priority: 1, Weight: 0}, {Target: "heavy", Priority: 2, Weight: 90},
		{Target: "light", Priority: 2, Weight: 10}, {Target: "a", Priority: 0, Weight: 5},
	}
	first := map[string]int{}
	seq := 0
	for r := 0; r <= 100; r++ { // every random draw in [0, total]
		seq = r
		got := OrderSRV(srvs, func(n int) int { return seq % n })
		if got[0].Target != "a" || got[1].Target != "b" {
			t.Fatalf("order %v: priority not respected", got)
		}
		first[got[2].Target]++
	}
	if first["heavy"] < 80 || first["light"] < 5 {
		t.Fatalf("within priority 2, first picks %v; want about 90:10", first)
	}
}

func TestKDC06_ParseKDC(t *testing.T) {
	for in, want := range map[string]string{"kdc": "kdc:88", "kdc:750": "kdc:750", "10.0.0.1": "10.0.0.1:88", "fd00::1": "[fd00::1]:88", "[fd00::1]:89": "[fd00::1]:89"} {
		h, p, err := ParseKDC(in)
		if err != nil || net.JoinHostPort(h, fmt.Sprint(p)) != want {
			t.Errorf("ParseKDC(%q) = %s:%d, %v; want %s", in, h, p, err, want)
		}
	}
	for _, bad := range []string{"", "kdc:0", "kdc:70000", "kdc:x", "a:b:c"} {
		if _, _, err := ParseKDC(bad); err == nil {
			t.Errorf("ParseKDC(%q) accepted", bad)
		}
	}
	if _, err := New(Config{Realm: "R", KDCs: []string{"kdc:0"}}, lab()); err == nil || !strings.Contains(err.Error(), "Config.KDCs") {
		t.Fatalf("New with a bad KDC: %v, want an error naming the field", err)
	}
}

// KDC-10: static hosts resolve before DNS.
func TestKDC10_StaticHostsFirst(t *testing.T) {
	r := StaticHosts(lab(), map[string][]string{"DC1.corp.example.": {"192.168.10.5"}})
	a, err := r.LookupHost(context.Background(), "dc1.CORP.example")
	if err != nil || len(a) != 1 || a[0] != "192.168.10.5" {
		t.Fatalf("LookupHost = %v, %v", a, err)
	}
	if a, _ := r.LookupHost(context.Background(), "kdc.corp.example"); len(a) != 1 || a[0] != "10.0.0.1" {
		t.Fatalf("fallback LookupHost = %v", a)
	}
}

// KPASSWD goes to the password-change servers: configured KDC hosts at
// port 464, then DNS _kpasswd records (never the _kerberos ones).
func TestLocateKpasswd(t *testing.T) {
	r := lab()
	r.srv["_kpasswd._tcp.corp.example"] = []*net.SRV{{Target: "pw.corp.example.", Port: 4464}}
	r.srv["_kpasswd._udp.corp.example"] = []*net.SRV{{Target: "pw.corp.example.", Port: 0}}
	l, err := New(Config{Realm: "CORP.EXAMPLE", KDCs: []string{"kdc.corp.example:8888"},
		AdditionalRealms: []Realm{{Name: "EMEA.EXAMPLE", KDCs: []string{"emea-kdc:88"}}}}, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.LocateKpasswd(context.Background(), "CORP.EXAMPLE")
	if want := []string{"configured/tcp/kdc.corp.example:464"}; err != nil || !reflect.DeepEqual(addrs(got), want) {
		t.Fatalf("own realm: %v %v, want %v", addrs(got), err, want)
	}
	got, err = l.LocateKpasswd(context.Background(), "corp.example")
	if want := []string{"dns/tcp/pw.corp.example:4464", "dns/udp/pw.corp.example:464"}; err != nil || !reflect.DeepEqual(addrs(got), want) {
		t.Fatalf("discovered: %v %v, want %v", addrs(got), err, want)
	}
	got, err = l.LocateKpasswd(context.Background(), "EMEA.EXAMPLE")
	if len(got) == 0 || addrs(got)[0] != "additional/tcp/emea-kdc:464" {
		t.Fatalf("additional realm: %v %v", addrs(got), err)
	}
}
