package kdc

import (
	"fmt"
	"slices"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// kdcError is a KRB-ERROR to send back.
type kdcError struct {
	code  int32
	etext string
	edata []byte
}

func (e *kdcError) Error() string { return fmt.Sprintf("KRB-ERROR %d: %s", e.code, e.etext) }

func newErr(code int32, format string, a ...any) *kdcError {
	return &kdcError{code: code, etext: fmt.Sprintf(format, a...)}
}

// Handle answers one Kerberos message (without TCP framing): an AS-REQ or a
// TGS-REQ. It is what the UDP and TCP listeners call, after faults.
func (s *Server) Handle(msg []byte) []byte {
	var (
		rep   []byte
		err   *kdcError
		kind  string
		cname types.PrincipalName
		sname types.PrincipalName
	)
	switch {
	case len(msg) > 0 && msg[0] == 0x6a: // [APPLICATION 10] AS-REQ
		kind = "AS"
		s.count(func(st *Stats) { st.AS++ })
		var req messages.ASReq
		if e := req.Unmarshal(msg); e != nil {
			err = newErr(errorcode.KRB_ERR_GENERIC, "malformed AS-REQ")
			break
		}
		cname, sname = req.ReqBody.CName, req.ReqBody.SName
		rep, err = s.handleAS(&req)
	case len(msg) > 0 && msg[0] == 0x6c: // [APPLICATION 12] TGS-REQ
		kind = "TGS"
		s.count(func(st *Stats) { st.TGS++ })
		var req messages.TGSReq
		if e := req.Unmarshal(msg); e != nil {
			err = newErr(errorcode.KRB_ERR_GENERIC, "malformed TGS-REQ")
			break
		}
		sname = req.ReqBody.SName
		rep, err = s.handleTGS(msg, &req)
	default:
		kind = "unknown"
		err = newErr(errorcode.KRB_ERR_GENERIC, "not an AS-REQ or TGS-REQ")
	}
	if err != nil {
		s.count(func(st *Stats) { st.Errors++ })
		s.log.Info("kdc request refused", "kind", kind, "client", cname.PrincipalNameString(), "server", sname.PrincipalNameString(), "code", err.code, "reason", err.etext)
		crealm := ""
		if len(cname.NameString) > 0 {
			crealm = s.cfg.Realm
		}
		return s.errorReply(err, cname, crealm)
	}
	s.log.Debug("kdc request answered", "kind", kind, "client", cname.PrincipalNameString(), "server", sname.PrincipalNameString())
	return rep
}

func (s *Server) errorReply(e *kdcError, cname types.PrincipalName, crealm string) []byte {
	now := s.cfg.Now().UTC()
	ke := messages.KRBError{
		PVNO: 5, MsgType: msgtype.KRB_ERROR,
		STime: now.Truncate(time.Second), Susec: now.Nanosecond() / 1000,
		ErrorCode: e.code, Realm: s.cfg.Realm, SName: kerberos.TGSName(s.cfg.Realm),
		CRealm: crealm, CName: cname, EText: e.etext, EData: e.edata,
	}
	b, err := ke.Marshal()
	if err != nil {
		s.log.Error("marshal KRB-ERROR", "error", err)
		return nil
	}
	return b
}

// ticketSpec is what goes into a ticket this KDC issues.
type ticketSpec struct {
	client      types.PrincipalName
	clientRealm string
	server      types.PrincipalName
	serverRealm string // realm field of the ticket (always this KDC's realm)
	serverKey   types.EncryptionKey
	kvno        int
	sessionEtyp int32
	flags       []int
	authTime    time.Time
	endTime     time.Time
}

// issue builds the ticket and returns it with its session key and flags.
func (s *Server) issue(t ticketSpec) (messages.Ticket, types.EncryptionKey, asn1.BitString, *kdcError) {
	et, err := crypto.GetEtype(t.sessionEtyp)
	if err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, asn1.BitString{}, newErr(errorcode.KDC_ERR_ETYPE_NOSUPP, "session etype %d", t.sessionEtyp)
	}
	sk, err := types.GenerateEncryptionKey(et)
	if err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, asn1.BitString{}, newErr(errorcode.KRB_ERR_GENERIC, "session key")
	}
	fl := types.NewKrbFlags()
	for _, f := range t.flags {
		types.SetFlag(&fl, f)
	}
	now := s.cfg.Now().UTC().Truncate(time.Second)
	etp := messages.EncTicketPart{
		Flags: fl, Key: sk, CRealm: t.clientRealm, CName: t.client,
		Transited: messages.TransitedEncoding{TRType: 1, Contents: []byte{}},
		AuthTime:  t.authTime.UTC().Truncate(time.Second), StartTime: now, EndTime: t.endTime.UTC().Truncate(time.Second),
	}
	b, err := asn1.Marshal(etp)
	if err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, asn1.BitString{}, newErr(errorcode.KRB_ERR_GENERIC, "marshal ticket")
	}
	b = asn1tools.AddASNAppTag(b, asnAppTag.EncTicketPart)
	ed, err := crypto.GetEncryptedData(b, t.serverKey, keyusage.KDC_REP_TICKET, t.kvno)
	if err != nil {
		return messages.Ticket{}, types.EncryptionKey{}, asn1.BitString{}, newErr(errorcode.KRB_ERR_GENERIC, "encrypt ticket")
	}
	return messages.Ticket{TktVNO: 5, Realm: t.serverRealm, SName: t.server, EncPart: ed}, sk, fl, nil
}

// encPart marshals and encrypts the EncKDCRepPart with the given application tag.
func encPart(tag int, ep messages.EncKDCRepPart, key types.EncryptionKey, usage uint32) (types.EncryptedData, *kdcError) {
	b, err := asn1.Marshal(ep)
	if err != nil {
		return types.EncryptedData{}, newErr(errorcode.KRB_ERR_GENERIC, "marshal reply enc-part")
	}
	b = asn1tools.AddASNAppTag(b, tag)
	ed, err := crypto.GetEncryptedData(b, key, usage, 0)
	if err != nil {
		return types.EncryptedData{}, newErr(errorcode.KRB_ERR_GENERIC, "encrypt reply enc-part")
	}
	return ed, nil
}

// pickEtype is the first etype of want the KDC supports and have holds.
func pickEtype(want []int32, have map[int32]types.EncryptionKey) (int32, bool) {
	for _, et := range want {
		if _, ok := have[et]; ok && slices.Contains(defaultETypes(), et) {
			return et, true
		}
	}
	return 0, false
}

func (s *Server) endTime(till, limit time.Time) time.Time {
	end := s.cfg.Now().Add(s.cfg.TicketLifetime)
	if !till.IsZero() && till.Before(end) {
		end = till
	}
	if !limit.IsZero() && limit.Before(end) {
		end = limit
	}
	return end
}

func requested(req messages.KDCReqBody, flag int) bool {
	return types.IsFlagSet(&req.KDCOptions, flag)
}
