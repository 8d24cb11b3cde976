package kerberos

import (
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

func fakeTGT() Credential {
	return Credential{Client: PrincipalFromSPN("HTTP/sentry1_eas_kcd"), ClientRealm: "CORP.EXAMPLE",
		Ticket: messages.Ticket{TktVNO: 5, Realm: "CORP.EXAMPLE", SName: TGSName("CORP.EXAMPLE"),
			EncPart: types.EncryptedData{EType: 18, Cipher: []byte{1, 2, 3}}},
		Key: testKey(18, 32)}
}

// KRB-08: the S4U2Self request carries PA-TGS-REQ first, then a PA-FOR-USER
// that verifies with the TGT session key, for the service itself.
func TestKRB08_S4U2SelfRequestShape(t *testing.T) {
	tgt := fakeTGT()
	req, nonce, err := NewS4U2SelfReq(S4U2SelfParams{
		TGSParams: TGSParams{TGT: tgt, Realm: "CORP.EXAMPLE", Server: tgt.Client, Till: time.Now().Add(time.Hour), Now: time.Now()},
		User:      PrincipalFromSPN("alice"), UserRealm: "CORP.EXAMPLE"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var got messages.TGSReq
	if err := got.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if got.ReqBody.Nonce != nonce || len(got.PAData) != 2 || got.PAData[0].PADataType != patype.PA_TGS_REQ || got.PAData[1].PADataType != patype.PA_FOR_USER {
		t.Fatalf("padata %+v nonce %d/%d", got.PAData, got.ReqBody.Nonce, nonce)
	}
	pa, err := DecodePAForUser(got.PAData[1].PADataValue)
	if err != nil {
		t.Fatal(err)
	}
	if err := pa.Verify(tgt.Key); err != nil || pa.UserName.PrincipalNameString() != "alice" {
		t.Fatalf("PA-FOR-USER %+v: %v", pa, err)
	}
	if got.ReqBody.SName.PrincipalNameString() != "HTTP/sentry1_eas_kcd" {
		t.Fatalf("sname %s, want the service itself", got.ReqBody.SName.PrincipalNameString())
	}
}

// KRB-08: S4U2Proxy sets cname-in-addl-tkt (bit 14) and carries the evidence ticket.
func TestKRB08_S4U2ProxyRequestShape(t *testing.T) {
	tgt := fakeTGT()
	ev := messages.Ticket{TktVNO: 5, Realm: "CORP.EXAMPLE", SName: tgt.Client, EncPart: types.EncryptedData{EType: 18, KVNO: 1, Cipher: []byte{9}}}
	req, _, err := NewS4U2ProxyReq(TGSParams{TGT: tgt, Realm: "CORP.EXAMPLE", Server: PrincipalFromSPN("http/mail.corp.example"), Till: time.Now(), Now: time.Now()}, ev)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := req.Marshal()
	var got messages.TGSReq
	if err := got.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if !types.IsFlagSet(&got.ReqBody.KDCOptions, FlagCnameInAddlTkt) || !types.IsFlagSet(&got.ReqBody.KDCOptions, flags.Forwardable) {
		t.Fatalf("kdc-options %x, want cname-in-addl-tkt and forwardable", got.ReqBody.KDCOptions.Bytes)
	}
	if len(got.ReqBody.AdditionalTickets) != 1 || !got.ReqBody.AdditionalTickets[0].SName.Equal(tgt.Client) {
		t.Fatalf("additional tickets %+v", got.ReqBody.AdditionalTickets)
	}
	if got.ReqBody.SName.NameType != 2 || got.ReqBody.SName.PrincipalNameString() != "http/mail.corp.example" {
		t.Fatalf("sname %+v", got.ReqBody.SName)
	}
}

// INC-10: a lower-case UPN suffix becomes the realm; mixed case is kept so
// discovery can see the mismatch.
func TestINC10_ParseUPN(t *testing.T) {
	for in, want := range map[string]string{"alice@corp.example": "CORP.EXAMPLE", "alice@CORP.EXAMPLE": "CORP.EXAMPLE", "alice@Corp.Example": "Corp.Example", "a@b@corp.example": "CORP.EXAMPLE"} {
		_, realm, err := ParseUPN(in)
		if err != nil || realm != want {
			t.Errorf("ParseUPN(%q) realm %q, %v; want %q", in, realm, err, want)
		}
	}
	for _, bad := range []string{"alice", "@corp", "alice@"} {
		if _, _, err := ParseUPN(bad); err == nil {
			t.Errorf("ParseUPN(%q) accepted", bad)
		}
	}
}
