package kerberos

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
)

// AuthPackageKerberos is the only auth-package value MS-SFU defines.
const AuthPackageKerberos = "Kerberos"

// MaxPAForUserSize bounds the PA-FOR-USER bytes DecodePAForUser accepts.
const MaxPAForUserSize = 16 << 10

// PAForUser is the S4U2Self padata (type 129, MS-SFU 2.2.1): the user the
// service asks a ticket for, with a keyed checksum binding it to the TGT
// session key.
type PAForUser struct {
	UserName    types.PrincipalName `asn1:"explicit,tag:0"`
	UserRealm   string              `asn1:"generalstring,explicit,tag:1"`
	Cksum       types.Checksum      `asn1:"explicit,tag:2"`
	AuthPackage string              `asn1:"generalstring,explicit,tag:3"`
}

// NewPAForUser builds a PA-FOR-USER for user@realm, its checksum keyed with
// the TGT session key (checksum type -138, KERB_CHECKSUM_HMAC_MD5).
func NewPAForUser(user types.PrincipalName, realm string, tgtSessionKey types.EncryptionKey) (PAForUser, error) {
	if len(user.NameString) == 0 || realm == "" {
		return PAForUser{}, errors.New("kerberos: PA-FOR-USER needs a user name and realm")
	}
	if len(tgtSessionKey.KeyValue) == 0 {
		return PAForUser{}, errors.New("kerberos: PA-FOR-USER needs the TGT session key")
	}
	p := PAForUser{UserName: user, UserRealm: realm, AuthPackage: AuthPackageKerberos}
	p.Cksum = types.Checksum{CksumType: chksumtype.KERB_CHECKSUM_HMAC_MD5, Checksum: forUserChecksum(tgtSessionKey.KeyValue, p)}
	return p, nil
}

// forUserChecksumData is S4UByteArray: name-type (little-endian int32), the
// name strings, the realm and the auth package, concatenated.
func forUserChecksumData(p PAForUser) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(p.UserName.NameType))
	for _, s := range p.UserName.NameString {
		b = append(b, s...)
	}
	b = append(b, p.UserRealm...)
	return append(b, p.AuthPackage...)
}

// hmacMD5Checksum is the RFC 4757 keyed checksum (type -138); MS-SFU uses
// it with whatever key type the session key has.
func hmacMD5Checksum(key []byte, usage uint32, data []byte) []byte {
	ks := hmac.New(md5.New, key)
	ks.Write([]byte("signaturekey\x00"))
	ksign := ks.Sum(nil)
	h := md5.New()
	h.Write(binary.LittleEndian.AppendUint32(nil, usage))
	h.Write(data)
	m := hmac.New(md5.New, ksign)
	m.Write(h.Sum(nil))
	return m.Sum(nil)
}

func forUserChecksum(key []byte, p PAForUser) []byte {
	return hmacMD5Checksum(key, keyusage.KERB_NON_KERB_CKSUM_SALT, forUserChecksumData(p))
}

// Verify checks the checksum against the TGT session key the KDC decrypted.
func (p PAForUser) Verify(tgtSessionKey types.EncryptionKey) error {
	if p.Cksum.CksumType != chksumtype.KERB_CHECKSUM_HMAC_MD5 {
		return fmt.Errorf("kerberos: PA-FOR-USER checksum type %d, want %d", p.Cksum.CksumType, chksumtype.KERB_CHECKSUM_HMAC_MD5)
	}
	if !hmac.Equal(p.Cksum.Checksum, forUserChecksum(tgtSessionKey.KeyValue, p)) {
		return errors.New("kerberos: PA-FOR-USER checksum mismatch")
	}
	return nil
}

// Marshal encodes the PA-FOR-USER as the padata-value of type 129.
func (p PAForUser) Marshal() ([]byte, error) {
	b, err := asn1.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("kerberos: marshal PA-FOR-USER: %w", err)
	}
	return b, nil
}

// DecodePAForUser parses a padata-value of type 129, refusing trailing bytes,
// oversize input and an empty user name.
func DecodePAForUser(b []byte) (PAForUser, error) {
	var p PAForUser
	if len(b) > MaxPAForUserSize {
		return p, fmt.Errorf("kerberos: PA-FOR-USER of %d bytes exceeds %d", len(b), MaxPAForUserSize)
	}
	rest, err := asn1.Unmarshal(b, &p)
	if err != nil {
		return PAForUser{}, fmt.Errorf("kerberos: decode PA-FOR-USER: %w", err)
	}
	if len(rest) != 0 {
		return PAForUser{}, fmt.Errorf("kerberos: decode PA-FOR-USER: %d trailing bytes", len(rest))
	}
	if len(p.UserName.NameString) == 0 || p.UserRealm == "" {
		return PAForUser{}, errors.New("kerberos: decode PA-FOR-USER: empty user name or realm")
	}
	return p, nil
}
