package kerberos

import (
	"errors"
	"fmt"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Secret is how a principal proves itself in the AS exchange: a password
// (keys derived with the KDC's salt) or a keytab.
type Secret struct {
	Password string
	Keytab   *keytab.Keytab
}

// Key returns the long-term key of cname@realm for etype, using the salt and
// string-to-key parameters from the KDC's PA-ETYPE-INFO2 when given.
func (s Secret) Key(cname types.PrincipalName, realm string, etype int32, hint types.PADataSequence) (types.EncryptionKey, error) {
	switch {
	case s.Keytab != nil:
		k, _, err := s.Keytab.GetEncryptionKey(cname, realm, 0, etype)
		if err != nil {
			return k, fmt.Errorf("kerberos: keytab key for %s@%s etype %d: %w", cname.PrincipalNameString(), realm, etype, err)
		}
		return k, nil
	case s.Password != "":
		k, _, err := crypto.GetKeyFromPassword(s.Password, cname, realm, etype, hint)
		if err != nil {
			return k, fmt.Errorf("kerberos: key from password for etype %d: %w", etype, err)
		}
		return k, nil
	}
	return types.EncryptionKey{}, errors.New("kerberos: no password or keytab")
}

// NewASReq builds an AS-REQ for a TGT of cname@realm, without padata.
func NewASReq(cname types.PrincipalName, realm string, etypes []int32, till time.Time) (messages.ASReq, error) {
	nonce, err := newNonce()
	if err != nil {
		return messages.ASReq{}, err
	}
	if len(etypes) == 0 {
		etypes = DefaultETypes()
	}
	body := messages.KDCReqBody{
		KDCOptions: types.NewKrbFlags(),
		CName:      cname,
		Realm:      realm,
		SName:      TGSName(realm),
		Till:       till.UTC().Truncate(time.Second),
		Nonce:      nonce,
		EType:      etypes,
	}
	types.SetFlag(&body.KDCOptions, flags.Forwardable)
	return messages.ASReq{KDCReqFields: messages.KDCReqFields{PVNO: 5, MsgType: msgtype.KRB_AS_REQ, ReqBody: body}}, nil
}

// AddEncTimestamp adds PA-ENC-TIMESTAMP (now, encrypted with the client key).
func AddEncTimestamp(req *messages.ASReq, key types.EncryptionKey, now time.Time) error {
	now = now.UTC()
	b, err := asn1.Marshal(types.PAEncTSEnc{PATimestamp: now.Truncate(time.Second), PAUSec: now.Nanosecond() / 1000})
	if err != nil {
		return fmt.Errorf("kerberos: marshal PA-ENC-TS-ENC: %w", err)
	}
	ed, err := crypto.GetEncryptedData(b, key, keyusage.AS_REQ_PA_ENC_TIMESTAMP, 1)
	if err != nil {
		return fmt.Errorf("kerberos: encrypt timestamp: %w", err)
	}
	eb, err := ed.Marshal()
	if err != nil {
		return fmt.Errorf("kerberos: marshal encrypted timestamp: %w", err)
	}
	req.PAData = append(req.PAData, types.PAData{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: eb})
	return nil
}

// PreauthHint returns the METHOD-DATA of a PREAUTH_REQUIRED error and the
// etype the KDC proposes first, or ok=false when err is not that error.
func PreauthHint(err error) (md types.PADataSequence, etype int32, ok bool) {
	var ke messages.KRBError
	if !errors.As(err, &ke) || ke.ErrorCode != errorcode.KDC_ERR_PREAUTH_REQUIRED {
		return nil, 0, false
	}
	if e := md.Unmarshal(ke.EData); e != nil {
		return nil, 0, true
	}
	for _, pa := range md {
		if pa.PADataType == patype.PA_ETYPE_INFO2 {
			if info, e := pa.GetETypeInfo2(); e == nil && len(info) > 0 {
				return md, info[0].EType, true
			}
		}
	}
	return md, 0, true
}

// ParseASRep decodes a KDC reply to an AS-REQ and decrypts it with the key
// keyFor returns for the reply's etype. A KRB-ERROR comes back as an error.
func ParseASRep(b []byte, nonce int, keyFor func(etype int32) (types.EncryptionKey, error)) (Credential, error) {
	if ke, ok := asKRBError(b); ok {
		return Credential{}, ke
	}
	var rep messages.ASRep
	if err := rep.Unmarshal(b); err != nil {
		return Credential{}, fmt.Errorf("kerberos: decode AS-REP: %w", err)
	}
	key, err := keyFor(rep.EncPart.EType)
	if err != nil {
		return Credential{}, err
	}
	pt, err := crypto.DecryptEncPart(rep.EncPart, key, keyusage.AS_REP_ENCPART)
	if err != nil {
		return Credential{}, fmt.Errorf("kerberos: decrypt AS-REP (wrong password?): %w", err)
	}
	var ep messages.EncKDCRepPart
	if err := ep.Unmarshal(pt); err != nil {
		return Credential{}, fmt.Errorf("kerberos: decode AS-REP enc-part: %w", err)
	}
	if ep.Nonce != nonce {
		return Credential{}, errors.New("kerberos: AS-REP nonce does not match the request")
	}
	return Credential{Client: rep.CName, ClientRealm: rep.CRealm, Ticket: rep.Ticket, Key: ep.Key,
		Flags: ep.Flags.Bytes, AuthTime: ep.AuthTime, EndTime: ep.EndTime}, nil
}
