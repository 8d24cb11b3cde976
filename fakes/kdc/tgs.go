package kdc

import (
	"fmt"
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

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// rawKDCReq keeps the req-body bytes as sent, for the authenticator checksum.
type rawKDCReq struct {
	PVNO    int           `asn1:"explicit,tag:1"`
	MsgType int           `asn1:"explicit,tag:2"`
	PAData  asn1.RawValue `asn1:"explicit,optional,tag:3"`
	ReqBody asn1.RawValue `asn1:"explicit,tag:4"`
}

// tgsContext is an authenticated TGS-REQ: the decrypted TGT and who sent it.
type tgsContext struct {
	req      *messages.TGSReq
	tgt      messages.EncTicketPart
	tgtRealm string // realm the TGT came from: ours, or a trusted realm for a cross-realm TGT
	replyKey types.EncryptionKey
	replyUse uint32
}

func (s *Server) handleTGS(raw []byte, req *messages.TGSReq) ([]byte, *kdcError) {
	tc, e := s.authenticateTGS(raw, req)
	if e != nil {
		return nil, e
	}
	body := req.ReqBody
	var forUser []byte
	for _, pa := range req.PAData {
		if pa.PADataType == patype.PA_FOR_USER {
			forUser = pa.PADataValue
		}
	}
	switch {
	case forUser != nil:
		s.count(func(st *Stats) { st.S4U2Self++ })
		return s.s4u2Self(tc, forUser)
	case requested(body, kerberos.FlagCnameInAddlTkt):
		s.count(func(st *Stats) { st.S4U2Proxy++ })
		return s.s4u2Proxy(tc)
	}
	if body.Realm != s.cfg.Realm {
		return nil, newErr(errorcode.KDC_ERR_WRONG_REALM, "this KDC serves %s, ask for krbtgt/%s first", s.cfg.Realm, body.Realm)
	}
	if tc.tgtRealm != s.cfg.Realm {
		// A user from a trusted realm asking for a service of ours.
	} else if e := s.localClientError(tc.tgt); e != nil {
		return nil, e
	}
	flagsOut := []int{}
	if types.IsFlagSet(&tc.tgt.Flags, flags.PreAuthent) {
		flagsOut = append(flagsOut, flags.PreAuthent)
	}
	if types.IsFlagSet(&tc.tgt.Flags, flags.Forwardable) && requested(body, flags.Forwardable) {
		flagsOut = append(flagsOut, flags.Forwardable)
	}
	return s.issueTGS(tc, tc.tgt.CName, tc.tgt.CRealm, body.SName, flagsOut)
}

// issueTGS issues a ticket to sname (a local principal, krbtgt/REALM or a
// trusted krbtgt/OTHER) for client@crealm and builds the TGS-REP.
func (s *Server) issueTGS(tc *tgsContext, client types.PrincipalName, crealm string, sname types.PrincipalName, fl []int) ([]byte, *kdcError) {
	body := tc.req.ReqBody
	server, e := s.tgsServer(sname)
	if e != nil {
		return nil, e
	}
	if server.State != Active {
		return nil, newErr(errorcode.KDC_ERR_SERVICE_REVOKED, "server %s is %s", sname.PrincipalNameString(), server.State)
	}
	skey, _ := server.strongestKey()
	sessEt, ok := pickEtype(body.EType, map[int32]types.EncryptionKey{AES256: {}, AES128: {}, RC4: {}})
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_ETYPE_NOSUPP, "no session encryption type")
	}
	end := s.endTime(body.Till, tc.tgt.EndTime)
	tkt, sk, tf, e := s.issue(ticketSpec{client: client, clientRealm: crealm, server: sname, serverRealm: s.cfg.Realm,
		serverKey: skey, kvno: server.KVNO, sessionEtyp: sessEt, flags: fl, authTime: tc.tgt.AuthTime, endTime: end})
	if e != nil {
		return nil, e
	}
	now := s.cfg.Now().UTC().Truncate(time.Second)
	ep := messages.EncKDCRepPart{Key: sk, LastReqs: []messages.LastReq{{LRType: 0, LRValue: now}}, Nonce: body.Nonce, Flags: tf,
		AuthTime: tc.tgt.AuthTime, StartTime: now, EndTime: end.UTC().Truncate(time.Second), SRealm: s.cfg.Realm, SName: sname}
	ed, e := encPart(asnAppTag.EncTGSRepPart, ep, tc.replyKey, tc.replyUse)
	if e != nil {
		return nil, e
	}
	rep := messages.TGSRep{KDCRepFields: messages.KDCRepFields{PVNO: 5, MsgType: msgtype.KRB_TGS_REP,
		CRealm: crealm, CName: client, Ticket: tkt, EncPart: ed}}
	b, err := rep.Marshal()
	if err != nil {
		return nil, newErr(errorcode.KRB_ERR_GENERIC, "marshal TGS-REP")
	}
	return b, nil
}

// tgsServer finds the key holder for a ticket this KDC issues.
func (s *Server) tgsServer(sname types.PrincipalName) (*entry, *kdcError) {
	name := sname.PrincipalNameString()
	if name == "krbtgt/"+s.cfg.Realm {
		return s.tgt, nil
	}
	if len(sname.NameString) == 2 && sname.NameString[0] == "krbtgt" {
		s.mu.Lock()
		out, ok := s.trustOut[sname.NameString[1]]
		s.mu.Unlock()
		if !ok {
			return nil, newErr(errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "no trust with %s", sname.NameString[1])
		}
		s.count(func(st *Stats) { st.Referrals++ })
		return out, nil
	}
	e, ok := s.lookup(name)
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "server not found")
	}
	return e, nil
}

// localClientError re-checks the account state of a local TGT's client.
func (s *Server) localClientError(t messages.EncTicketPart) *kdcError {
	if t.CRealm != s.cfg.Realm {
		return nil
	}
	c, ok := s.lookup(t.CName.PrincipalNameString())
	if !ok {
		return newErr(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, "client no longer exists")
	}
	return c.clientError(s.cfg.Now())
}

// authenticateTGS decrypts the TGT in PA-TGS-REQ, checks the authenticator
// (client match, skew, checksum over the req-body as sent).
func (s *Server) authenticateTGS(raw []byte, req *messages.TGSReq) (*tgsContext, *kdcError) {
	var apb []byte
	for _, pa := range req.PAData {
		if pa.PADataType == patype.PA_TGS_REQ {
			apb = pa.PADataValue
		}
	}
	if apb == nil {
		return nil, newErr(errorcode.KDC_ERR_PADATA_TYPE_NOSUPP, "TGS-REQ without PA-TGS-REQ")
	}
	var ap messages.APReq
	if err := ap.Unmarshal(apb); err != nil {
		return nil, newErr(errorcode.KRB_AP_ERR_MSG_TYPE, "malformed AP-REQ in PA-TGS-REQ")
	}
	tkt := ap.Ticket
	if len(tkt.SName.NameString) != 2 || tkt.SName.NameString[0] != "krbtgt" || tkt.SName.NameString[1] != s.cfg.Realm {
		return nil, newErr(errorcode.KRB_AP_ERR_NOT_US, "ticket is not a TGT for %s", s.cfg.Realm)
	}
	key := s.tgt
	if tkt.Realm != s.cfg.Realm {
		s.mu.Lock()
		in, ok := s.trustIn[tkt.Realm]
		s.mu.Unlock()
		if !ok {
			return nil, newErr(errorcode.KRB_AP_ERR_NOT_US, "no trust with %s", tkt.Realm)
		}
		key = in
	}
	k, ok := key.keys[tkt.EncPart.EType]
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_ETYPE_NOSUPP, "TGT etype %d", tkt.EncPart.EType)
	}
	if err := tkt.Decrypt(k); err != nil {
		return nil, newErr(errorcode.KRB_AP_ERR_BAD_INTEGRITY, "TGT does not decrypt")
	}
	tgt := tkt.DecryptedEncPart
	now := s.cfg.Now()
	if !now.Before(tgt.EndTime) {
		return nil, newErr(errorcode.KRB_AP_ERR_TKT_EXPIRED, "TGT expired")
	}
	if err := ap.DecryptAuthenticator(tgt.Key); err != nil {
		return nil, newErr(errorcode.KRB_AP_ERR_BAD_INTEGRITY, "authenticator does not decrypt")
	}
	a := ap.Authenticator
	if !a.CName.Equal(tgt.CName) || a.CRealm != tgt.CRealm {
		return nil, newErr(errorcode.KRB_AP_ERR_BADMATCH, "authenticator client does not match the TGT")
	}
	if d := now.Sub(a.CTime); d > s.cfg.MaxSkew || -d > s.cfg.MaxSkew {
		return nil, newErr(errorcode.KRB_AP_ERR_SKEW, "clock skew too great")
	}
	if e := verifyBodyChecksum(raw, a, tgt.Key); e != nil {
		return nil, e
	}
	tc := &tgsContext{req: req, tgt: tgt, tgtRealm: tkt.Realm, replyKey: tgt.Key, replyUse: keyusage.TGS_REP_ENCPART_SESSION_KEY}
	if len(a.SubKey.KeyValue) > 0 {
		tc.replyKey, tc.replyUse = a.SubKey, keyusage.TGS_REP_ENCPART_AUTHENTICATOR_SUB_KEY
	}
	return tc, nil
}

func verifyBodyChecksum(raw []byte, a types.Authenticator, key types.EncryptionKey) *kdcError {
	var r rawKDCReq
	if _, err := asn1.UnmarshalWithParams(raw, &r, fmt.Sprintf("application,explicit,tag:%d", asnAppTag.TGSREQ)); err != nil {
		return newErr(errorcode.KRB_ERR_GENERIC, "malformed TGS-REQ")
	}
	if len(a.Cksum.Checksum) == 0 {
		return newErr(errorcode.KRB_AP_ERR_INAPP_CKSUM, "authenticator has no checksum")
	}
	et, err := crypto.GetChksumEtype(a.Cksum.CksumType)
	if err != nil {
		return newErr(errorcode.KDC_ERR_SUMTYPE_NOSUPP, "checksum type %d", a.Cksum.CksumType)
	}
	if !et.VerifyChecksum(key.KeyValue, r.ReqBody.Bytes, a.Cksum.Checksum, keyusage.TGS_REQ_PA_TGS_REQ_AP_REQ_AUTHENTICATOR_CHKSUM) {
		return newErr(errorcode.KRB_AP_ERR_MODIFIED, "req-body checksum mismatch")
	}
	return nil
}
