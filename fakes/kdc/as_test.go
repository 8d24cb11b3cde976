package kdc

import (
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

func asReq(t *testing.T, s *Server, name string) []byte {
	t.Helper()
	req, err := kerberos.NewASReq(kerberos.PrincipalFromSPN(name), s.Realm(), nil, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An AS-REQ without PA-ENC-TIMESTAMP gets PREAUTH_REQUIRED whose e-data
// proposes the client's strongest requested etype with the standard salt.
func TestKRB04_PreauthRequired(t *testing.T) {
	s := corpLab(t)
	_, err := kerberos.ParseASRep(s.Handle(asReq(t, s, "alice")), 0, nil)
	md, et, ok := kerberos.PreauthHint(err)
	if !ok {
		t.Fatalf("reply %v is not PREAUTH_REQUIRED", err)
	}
	if et != AES256 {
		t.Fatalf("proposed etype %d, want %d", et, AES256)
	}
	info, err := md[0].GetETypeInfo2()
	if err != nil || info[0].Salt != corp+"alice" {
		t.Fatalf("etype-info2 %+v (%v), want salt %salice", info, err, corp)
	}
}

func login(t *testing.T, s *Server, name, password string) error {
	c := &kerberos.S4UClient{Principal: name, Realm: s.Realm(), Secret: kerberos.Secret{Password: password},
		Transport: netTransport{addrs: map[string]string{s.Realm(): s.Addr()}}}
	_, err := c.Login(ctxT(t))
	return err
}

// KRB-04: the service principal logs in with its password; account states
// produce the matching KRB-ERRORs.
func TestKRB04_LoginAndAccountStates(t *testing.T) {
	s := corpLab(t)
	if err := login(t, s, sentrySPN, sentryPass); err != nil {
		t.Fatalf("login with the right password: %v", err)
	}
	wantCode(t, login(t, s, sentrySPN, "wrong"), errorcode.KDC_ERR_PREAUTH_FAILED)
	wantCode(t, login(t, s, "nobody", "x"), errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN)
	for _, tc := range []struct {
		state State
		code  int32
	}{{Disabled, errorcode.KDC_ERR_CLIENT_REVOKED}, {Locked, errorcode.KDC_ERR_CLIENT_REVOKED}, {PasswordExpired, errorcode.KDC_ERR_KEY_EXPIRED}} {
		if err := s.SetState("alice", tc.state); err != nil {
			t.Fatal(err)
		}
		wantCode(t, login(t, s, "alice", "alice-pw"), tc.code)
	}
	if err := s.SetState("alice", Active); err != nil {
		t.Fatal(err)
	}
	if err := s.SetExpiry("alice", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, login(t, s, "alice", "alice-pw"), errorcode.KDC_ERR_NAME_EXP)
}

// KRB-03: a keytab exported from the KDC logs the service in, and its
// tickets expire no later than the account.
func TestKRB03_KeytabLogin(t *testing.T) {
	s := corpLab(t)
	kt, err := s.Keytab(sentrySPN)
	if err != nil {
		t.Fatal(err)
	}
	c := &kerberos.S4UClient{Principal: sentrySPN, Realm: corp, Secret: kerberos.Secret{Keytab: kt},
		Transport: netTransport{addrs: map[string]string{corp: s.Addr()}}}
	if _, err := c.ServiceCredential(ctxT(t), "alice@"+corp, mailSPN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Keytab("nobody"); err == nil {
		t.Fatal("keytab for an unknown principal")
	}
}

// Principals can hold explicit keys (no password), e.g. rc4 only.
func TestKRB04_PrincipalWithKeys(t *testing.T) {
	s := corpLab(t)
	key := testRC4Key()
	mustAdd(t, s, Principal{Name: "svc-rc4", Keys: []typesKey{key}})
	kt, err := s.Keytab("svc-rc4")
	if err != nil {
		t.Fatal(err)
	}
	c := &kerberos.S4UClient{Principal: "svc-rc4", Realm: corp, Secret: kerberos.Secret{Keytab: kt}, ETypes: []int32{RC4},
		Transport: netTransport{addrs: map[string]string{corp: s.Addr()}}}
	cr, err := c.Login(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if cr.Key.KeyType != RC4 {
		t.Fatalf("session key etype %d, want rc4", cr.Key.KeyType)
	}
}

// A TGS-REQ whose body was changed after the authenticator checksummed it
// is refused with KRB_AP_ERR_MODIFIED.
func TestKRB08_TamperedTGSReqRefused(t *testing.T) {
	s := corpLab(t)
	c := sentryClient(map[string]string{corp: s.Addr()})
	tgt, err := c.TGT(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	req, _, err := kerberos.NewTGSReq(kerberos.TGSParams{TGT: tgt, Realm: corp, Server: kerberos.PrincipalFromSPN(mailSPN), Till: time.Now().Add(time.Hour), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	req.ReqBody.Till = req.ReqBody.Till.Add(time.Hour)
	b, _ := req.Marshal()
	_, err = kerberos.ParseTGSRep(s.Handle(b), tgt, 0)
	wantCode(t, err, errorcode.KRB_AP_ERR_MODIFIED)
}
