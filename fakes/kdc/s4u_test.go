package kdc

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jcmturner/goidentity/v6"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// KRB-08: S4U2Self then S4U2Proxy yield a ticket to the SPN on behalf of
// the UPN, and the Negotiate header built from it is accepted by a
// gokrb5 SPNEGO service holding the target's keytab (KRB-09: no user password).
func TestKRB08_S4UTicketAcceptedBySPNEGOService(t *testing.T) {
	s := corpLab(t)
	c := sentryClient(map[string]string{corp: s.Addr()})
	cred, err := c.ServiceCredential(ctxT(t), "alice@corp.example", mailSPN)
	if err != nil {
		t.Fatal(err)
	}
	if cred.Client.PrincipalNameString() != "alice" || cred.ClientRealm != corp {
		t.Fatalf("ticket client %s@%s, want alice@%s", cred.Client.PrincipalNameString(), cred.ClientRealm, corp)
	}
	if got := cred.Ticket.SName.PrincipalNameString(); got != mailSPN {
		t.Fatalf("ticket server %s, want %s", got, mailSPN)
	}
	kt, err := s.Keytab(mailSPN)
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	h := spnego.SPNEGOKRB5Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := goidentity.FromHTTPRequestContext(r)
		if id != nil {
			seen = id.UserName() + "@" + id.Domain()
		}
	}), kt)
	srv := httptest.NewServer(h)
	defer srv.Close()
	hdr, err := cred.NegotiateHeader(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Authorization", hdr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || seen != "alice@"+corp {
		t.Fatalf("service answered %d and saw %q, want 200 and alice@%s", resp.StatusCode, seen, corp)
	}
	st := s.Stats()
	if st.AS != 2 || st.S4U2Self != 1 || st.S4U2Proxy != 1 {
		t.Fatalf("stats %+v, want 2 AS (preauth round trip), 1 S4U2Self, 1 S4U2Proxy", st)
	}
}

// A service with delegation targets but not ok_to_auth_as_delegate gets a
// non-forwardable evidence ticket (MIT's rule), so S4U2Proxy is refused.
func TestKRB08_S4U2SelfWithoutOKToAuthAsDelegate(t *testing.T) {
	s := corpLab(t)
	mustAdd(t, s, Principal{Name: "HTTP/plain", Password: "p", AllowedToDelegateTo: []string{mailSPN}})
	c := sentryClient(map[string]string{corp: s.Addr()})
	c.Principal, c.Secret.Password = "HTTP/plain", "p"
	ev, err := c.Self(ctxT(t), principal("alice"), corp)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Forwardable() {
		t.Fatal("evidence ticket forwardable for a service without ok_to_auth_as_delegate")
	}
	_, err = c.Proxy(ctxT(t), ev, mailSPN)
	wantCode(t, err, errorcode.KDC_ERR_BADOPTION)

	sc := sentryClient(map[string]string{corp: s.Addr()})
	ev, err = sc.Self(ctxT(t), principal("alice"), corp)
	if err != nil || !ev.Forwardable() {
		t.Fatalf("delegating service: forwardable=%v err=%v, want a forwardable evidence ticket", ev.Forwardable(), err)
	}
}

func TestKRB08_S4U2ProxyOnlyToAllowedTargets(t *testing.T) {
	s := corpLab(t)
	c := sentryClient(map[string]string{corp: s.Addr()})
	_, err := c.ServiceCredential(ctxT(t), "alice@"+corp, "http/files.corp.example")
	wantCode(t, err, errorcode.KDC_ERR_BADOPTION)
	// SPNs are case-sensitive (KRB-02): HTTP/ is not http/.
	_, err = c.ServiceCredential(ctxT(t), "alice@"+corp, "HTTP/mail.corp.example")
	wantCode(t, err, errorcode.KDC_ERR_BADOPTION)
}

func TestKRB08_S4UForUnusableUsers(t *testing.T) {
	s := corpLab(t)
	c := sentryClient(map[string]string{corp: s.Addr()})
	_, err := c.ServiceCredential(ctxT(t), "nobody@"+corp, mailSPN)
	wantCode(t, err, errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN)
	if err := s.SetState("carol", Disabled); err != nil {
		t.Fatal(err)
	}
	_, err = c.ServiceCredential(ctxT(t), "carol@"+corp, mailSPN)
	wantCode(t, err, errorcode.KDC_ERR_CLIENT_REVOKED)
}

func twoRealms(t *testing.T) (*Server, *Server) {
	a := corpLab(t)
	b := startKDC(t, emea)
	mustAdd(t, b, Principal{Name: "bob", Password: "bob-pw"})
	mustAdd(t, b, Principal{Name: "http/files.emea.example", Password: "f"})
	for _, s := range []*Server{a, b} {
		other := emea
		if s == b {
			other = corp
		}
		if err := s.AddTrust(other, "trust-secret"); err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

// KDC-09: cross-realm S4U2Self works (user of EMEA, service of CORP),
// and the evidence can be used for S4U2Proxy to a CORP target.
func TestKDC09_CrossRealmS4U2Self(t *testing.T) {
	a, b := twoRealms(t)
	c := sentryClient(map[string]string{corp: a.Addr(), emea: b.Addr()})
	cred, err := c.ServiceCredential(ctxT(t), "bob@"+emea, mailSPN)
	if err != nil {
		t.Fatal(err)
	}
	if cred.Client.PrincipalNameString() != "bob" || cred.ClientRealm != emea {
		t.Fatalf("ticket for %s@%s, want bob@%s", cred.Client.PrincipalNameString(), cred.ClientRealm, emea)
	}
	if a.Stats().Referrals != 1 || b.Stats().Referrals != 1 || b.Stats().S4U2Self != 1 {
		t.Fatalf("referrals corp=%+v emea=%+v, want one referral each way", a.Stats(), b.Stats())
	}
}

// KDC-09: cross-realm S4U2Proxy (a target in another realm) is refused.
func TestKDC09_CrossRealmS4U2ProxyFails(t *testing.T) {
	a, b := twoRealms(t)
	c := sentryClient(map[string]string{corp: a.Addr(), emea: b.Addr()})
	ev, err := c.Self(ctxT(t), principal("alice"), corp)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Proxy(ctxT(t), ev, "http/files.emea.example@"+emea)
	wantCode(t, err, errorcode.KDC_ERR_BADOPTION)
}

// Without a trust, the referral TGT cannot be had.
func TestKDC09_NoTrustNoReferral(t *testing.T) {
	a := corpLab(t)
	c := sentryClient(map[string]string{corp: a.Addr()})
	_, err := c.ServiceCredential(ctxT(t), "bob@"+emea, mailSPN)
	wantCode(t, err, errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN)
}

func principal(name string) types.PrincipalName { return kerberosPrincipal(name) }
