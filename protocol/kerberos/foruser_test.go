package kerberos

import (
	"bytes"
	"testing"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"
)

func testKey(et int32, n int) types.EncryptionKey {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i*7 + 1)
	}
	return types.EncryptionKey{KeyType: et, KeyValue: k}
}

func alice() types.PrincipalName {
	return types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{"alice"}}
}

// The -138 checksum must equal RFC 4757's HMAC-MD5 as gokrb5's rc4-hmac
// etype computes it, over MS-SFU's S4UByteArray.
func TestKRB08_PAForUserChecksumMatchesRFC4757(t *testing.T) {
	key := testKey(etypeID.RC4_HMAC, 16)
	p, err := NewPAForUser(alice(), "CORP.EXAMPLE", key)
	if err != nil {
		t.Fatal(err)
	}
	data := append([]byte{1, 0, 0, 0}, "aliceCORP.EXAMPLEKerberos"...)
	et, err := crypto.GetChksumEtype(-138)
	if err != nil {
		t.Fatal(err)
	}
	want, err := et.GetChecksumHash(key.KeyValue, data, keyusage.KERB_NON_KERB_CKSUM_SALT)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Cksum.Checksum, want) {
		t.Fatalf("checksum %x, want %x", p.Cksum.Checksum, want)
	}
	if p.Cksum.CksumType != -138 || p.AuthPackage != "Kerberos" {
		t.Fatalf("cksumtype %d auth-package %q", p.Cksum.CksumType, p.AuthPackage)
	}
}

func TestKRB08_PAForUserRoundTripAndVerify(t *testing.T) {
	key := testKey(etypeID.AES256_CTS_HMAC_SHA1_96, 32)
	p, err := NewPAForUser(alice(), "CORP.EXAMPLE", key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePAForUser(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(key); err != nil {
		t.Fatalf("verify with the right key: %v", err)
	}
	if got.UserName.PrincipalNameString() != "alice" || got.UserRealm != "CORP.EXAMPLE" {
		t.Fatalf("decoded %+v", got)
	}
	if err := got.Verify(testKey(18, 31)); err == nil {
		t.Fatal("verify with another key succeeded")
	}
	got.UserName.NameString = []string{"administrator"}
	if err := got.Verify(key); err == nil {
		t.Fatal("verify after changing the user succeeded")
	}
}

func TestKRB08_PAForUserDecodeRejects(t *testing.T) {
	key := testKey(18, 32)
	p, _ := NewPAForUser(alice(), "CORP.EXAMPLE", key)
	b, _ := p.Marshal()
	cases := map[string][]byte{
		"empty":     nil,
		"trailing":  append(append([]byte(nil), b...), 0),
		"truncated": b[:len(b)-1],
		"oversize":  make([]byte, MaxPAForUserSize+1),
	}
	for name, in := range cases {
		if _, err := DecodePAForUser(in); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := NewPAForUser(types.PrincipalName{}, "R", key); err == nil {
		t.Error("empty user accepted")
	}
}
