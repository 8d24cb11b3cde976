package kdc

import (
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

func (s *Server) handleAS(req *messages.ASReq) ([]byte, *kdcError) {
	body := req.ReqBody
	if body.Realm != s.cfg.Realm {
		return nil, newErr(errorcode.KDC_ERR_WRONG_REALM, "this KDC serves %s", s.cfg.Realm)
	}
	client, ok := s.lookup(body.CName.PrincipalNameString())
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, "client not found")
	}
	server, ok := s.serverEntry(body.SName)
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "server not found")
	}
	now := s.cfg.Now()
	if e := client.clientError(now); e != nil {
		return nil, e
	}
	cet, ok := pickEtype(body.EType, client.keys)
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_ETYPE_NOSUPP, "no common encryption type")
	}
	sessEt, ok := pickEtype(body.EType, map[int32]types.EncryptionKey{AES256: {}, AES128: {}, RC4: {}})
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_ETYPE_NOSUPP, "no session encryption type")
	}
	if e := s.checkEncTimestamp(req, client, now); e != nil {
		return nil, e
	}
	skey, _ := server.strongestKey()
	fl := []int{flags.Initial, flags.PreAuthent}
	if requested(body, flags.Forwardable) {
		fl = append(fl, flags.Forwardable)
	}
	end := s.endTime(body.Till, client.Expires)
	tkt, sk, tf, e := s.issue(ticketSpec{client: client.name, clientRealm: s.cfg.Realm, server: body.SName, serverRealm: s.cfg.Realm,
		serverKey: skey, kvno: server.KVNO, sessionEtyp: sessEt, flags: fl, authTime: now, endTime: end})
	if e != nil {
		return nil, e
	}
	nowT := now.UTC().Truncate(time.Second)
	ep := messages.EncKDCRepPart{Key: sk, LastReqs: []messages.LastReq{{LRType: 0, LRValue: nowT}}, Nonce: body.Nonce,
		Flags: tf, AuthTime: nowT, StartTime: nowT, EndTime: end.UTC().Truncate(time.Second), SRealm: s.cfg.Realm, SName: body.SName}
	ed, e := encPart(asnAppTag.EncASRepPart, ep, client.keys[cet], keyusage.AS_REP_ENCPART)
	if e != nil {
		return nil, e
	}
	info, _ := s.etypeInfo2(client, []int32{cet})
	rep := messages.ASRep{KDCRepFields: messages.KDCRepFields{PVNO: 5, MsgType: msgtype.KRB_AS_REP,
		PAData: types.PADataSequence{{PADataType: patype.PA_ETYPE_INFO2, PADataValue: info}},
		CRealm: s.cfg.Realm, CName: client.name, Ticket: tkt, EncPart: ed}}
	b, err := rep.Marshal()
	if err != nil {
		return nil, newErr(errorcode.KRB_ERR_GENERIC, "marshal AS-REP")
	}
	return b, nil
}

// serverEntry resolves the server of an AS-REQ: krbtgt/REALM or a principal.
func (s *Server) serverEntry(sname types.PrincipalName) (*entry, bool) {
	if sname.PrincipalNameString() == "krbtgt/"+s.cfg.Realm {
		return s.tgt, true
	}
	return s.lookup(sname.PrincipalNameString())
}

func (s *Server) etypeInfo2(e *entry, order []int32) ([]byte, error) {
	var info types.ETypeInfo2
	for _, et := range order {
		if _, ok := e.keys[et]; ok {
			info = append(info, types.ETypeInfo2Entry{EType: et, Salt: e.name.GetSalt(s.cfg.Realm)})
		}
	}
	return asn1.Marshal(info)
}

// checkEncTimestamp enforces PA-ENC-TIMESTAMP: PREAUTH_REQUIRED (with
// PA-ETYPE-INFO2 hints) when absent, PREAUTH_FAILED when it does not decrypt,
// KRB_AP_ERR_SKEW when its time is off.
func (s *Server) checkEncTimestamp(req *messages.ASReq, client *entry, now time.Time) *kdcError {
	for _, pa := range req.PAData {
		if pa.PADataType != patype.PA_ENC_TIMESTAMP {
			continue
		}
		var ed types.EncryptedData
		if err := ed.Unmarshal(pa.PADataValue); err != nil {
			return newErr(errorcode.KDC_ERR_PREAUTH_FAILED, "malformed PA-ENC-TIMESTAMP")
		}
		key, ok := client.keys[ed.EType]
		if !ok {
			return newErr(errorcode.KDC_ERR_ETYPE_NOSUPP, "PA-ENC-TIMESTAMP etype %d", ed.EType)
		}
		pt, err := crypto.DecryptEncPart(ed, key, keyusage.AS_REQ_PA_ENC_TIMESTAMP)
		if err != nil {
			return newErr(errorcode.KDC_ERR_PREAUTH_FAILED, "pre-authentication failed")
		}
		var ts types.PAEncTSEnc
		if err := ts.Unmarshal(pt); err != nil {
			return newErr(errorcode.KDC_ERR_PREAUTH_FAILED, "malformed PA-ENC-TS-ENC")
		}
		if d := now.Sub(ts.PATimestamp); d > s.cfg.MaxSkew || -d > s.cfg.MaxSkew {
			return newErr(errorcode.KRB_AP_ERR_SKEW, "clock skew too great")
		}
		return nil
	}
	info, err := s.etypeInfo2(client, req.ReqBody.EType)
	if err != nil {
		return newErr(errorcode.KRB_ERR_GENERIC, "marshal PA-ETYPE-INFO2")
	}
	md, err := asn1.Marshal(types.MethodData{
		{PADataType: patype.PA_ETYPE_INFO2, PADataValue: info},
		{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: []byte{}},
	})
	if err != nil {
		return newErr(errorcode.KRB_ERR_GENERIC, "marshal METHOD-DATA")
	}
	e := newErr(errorcode.KDC_ERR_PREAUTH_REQUIRED, "pre-authentication required")
	e.edata = md
	return e
}
