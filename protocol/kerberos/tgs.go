package kerberos

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// FlagCnameInAddlTkt is the KDC option (bit 14) asking for S4U2Proxy.
const FlagCnameInAddlTkt = 14

// DefaultETypes returns the encryption types requested when none are given:
// aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, rc4-hmac.
func DefaultETypes() []int32 { return []int32{18, 17, 23} }

// Credential is a ticket with the session key and times the KDC returned.
type Credential struct {
	Client      types.PrincipalName
	ClientRealm string
	Ticket      messages.Ticket
	Key         types.EncryptionKey
	Flags       []byte
	AuthTime    time.Time
	EndTime     time.Time
}

// Forwardable reports whether the KDC marked the ticket forwardable.
func (c Credential) Forwardable() bool {
	return flagSet(c.Flags, flags.Forwardable)
}

func flagSet(b []byte, bit int) bool {
	return bit/8 < len(b) && b[bit/8]&(0x80>>(bit%8)) != 0
}

// TGSParams describes one TGS-REQ made with a TGT.
type TGSParams struct {
	TGT        Credential          // the TGT (or referral TGT) and its session key
	Realm      string              // realm of the KDC addressed and of Server
	Server     types.PrincipalName // the service asked for
	ETypes     []int32             // DefaultETypes when empty
	Till       time.Time           // end time asked for
	Now        time.Time           // authenticator time
	Options    []int               // KDC option bits, forwardable is always set
	PAData     []types.PAData      // extra padata, e.g. PA-FOR-USER
	Additional []messages.Ticket   // additional tickets, e.g. the S4U2Proxy evidence
}

// NewTGSReq builds a TGS-REQ whose PA-TGS-REQ authenticator checksums the
// final request body, and returns it with its nonce.
func NewTGSReq(p TGSParams) (messages.TGSReq, int, error) {
	if p.Realm == "" || len(p.Server.NameString) == 0 {
		return messages.TGSReq{}, 0, errors.New("kerberos: TGS-REQ needs a realm and a server name")
	}
	nonce, err := newNonce()
	if err != nil {
		return messages.TGSReq{}, 0, err
	}
	et := p.ETypes
	if len(et) == 0 {
		et = DefaultETypes()
	}
	body := messages.KDCReqBody{
		KDCOptions:        types.NewKrbFlags(),
		Realm:             p.Realm,
		SName:             p.Server,
		Till:              p.Till.UTC().Truncate(time.Second),
		Nonce:             nonce,
		EType:             et,
		AdditionalTickets: p.Additional,
	}
	types.SetFlag(&body.KDCOptions, flags.Forwardable)
	for _, o := range p.Options {
		types.SetFlag(&body.KDCOptions, o)
	}
	req := messages.TGSReq{KDCReqFields: messages.KDCReqFields{PVNO: 5, MsgType: msgtype.KRB_TGS_REQ, ReqBody: body}}
	bb, err := body.Marshal()
	if err != nil {
		return req, 0, fmt.Errorf("kerberos: marshal TGS-REQ body: %w", err)
	}
	etype, err := crypto.GetEtype(p.TGT.Key.KeyType)
	if err != nil {
		return req, 0, fmt.Errorf("kerberos: TGT session key: %w", err)
	}
	ck, err := etype.GetChecksumHash(p.TGT.Key.KeyValue, bb, keyusage.TGS_REQ_PA_TGS_REQ_AP_REQ_AUTHENTICATOR_CHKSUM)
	if err != nil {
		return req, 0, fmt.Errorf("kerberos: TGS-REQ body checksum: %w", err)
	}
	auth, err := types.NewAuthenticator(p.TGT.ClientRealm, p.TGT.Client)
	if err != nil {
		return req, 0, fmt.Errorf("kerberos: authenticator: %w", err)
	}
	now := p.Now.UTC()
	auth.CTime = now.Truncate(time.Second)
	auth.Cusec = now.Nanosecond() / 1000
	auth.Cksum = types.Checksum{CksumType: etype.GetHashID(), Checksum: ck}
	ap, err := messages.NewAPReq(p.TGT.Ticket, p.TGT.Key, auth)
	if err != nil {
		return req, 0, fmt.Errorf("kerberos: AP-REQ for TGS-REQ: %w", err)
	}
	apb, err := ap.Marshal()
	if err != nil {
		return req, 0, fmt.Errorf("kerberos: marshal AP-REQ: %w", err)
	}
	req.PAData = append(types.PADataSequence{{PADataType: patype.PA_TGS_REQ, PADataValue: apb}}, p.PAData...)
	return req, nonce, nil
}

// S4U2SelfParams asks the KDC for a ticket to the service itself on behalf
// of User@UserRealm (protocol transition).
type S4U2SelfParams struct {
	TGSParams                     // Server is the service itself (or krbtgt/SERVICE-REALM on a cross-realm hop)
	User      types.PrincipalName // the user, e.g. NT_PRINCIPAL "alice"
	UserRealm string
}

// NewS4U2SelfReq builds the TGS-REQ with PA-FOR-USER keyed by the TGT session key.
func NewS4U2SelfReq(p S4U2SelfParams) (messages.TGSReq, int, error) {
	pa, err := NewPAForUser(p.User, p.UserRealm, p.TGT.Key)
	if err != nil {
		return messages.TGSReq{}, 0, err
	}
	b, err := pa.Marshal()
	if err != nil {
		return messages.TGSReq{}, 0, err
	}
	tp := p.TGSParams
	tp.PAData = append(append([]types.PAData(nil), tp.PAData...), types.PAData{PADataType: patype.PA_FOR_USER, PADataValue: b})
	return NewTGSReq(tp)
}

// NewS4U2ProxyReq builds the constrained-delegation TGS-REQ: the evidence
// ticket from S4U2Self goes in additional-tickets with cname-in-addl-tkt.
func NewS4U2ProxyReq(p TGSParams, evidence messages.Ticket) (messages.TGSReq, int, error) {
	p.Options = append(append([]int(nil), p.Options...), FlagCnameInAddlTkt)
	p.Additional = []messages.Ticket{evidence}
	return NewTGSReq(p)
}

// ParseTGSRep decodes a KDC reply to a TGS-REQ. A KRB-ERROR comes back as an
// error carrying messages.KRBError (see ErrorCode). The nonce must match.
func ParseTGSRep(b []byte, tgt Credential, nonce int) (Credential, error) {
	if ke, ok := asKRBError(b); ok {
		return Credential{}, ke
	}
	var rep messages.TGSRep
	if err := rep.Unmarshal(b); err != nil {
		return Credential{}, fmt.Errorf("kerberos: decode TGS-REP: %w", err)
	}
	if err := rep.DecryptEncPart(tgt.Key); err != nil {
		return Credential{}, fmt.Errorf("kerberos: decrypt TGS-REP: %w", err)
	}
	ep := rep.DecryptedEncPart
	if ep.Nonce != nonce {
		return Credential{}, errors.New("kerberos: TGS-REP nonce does not match the request")
	}
	return Credential{Client: rep.CName, ClientRealm: rep.CRealm, Ticket: rep.Ticket, Key: ep.Key,
		Flags: ep.Flags.Bytes, AuthTime: ep.AuthTime, EndTime: ep.EndTime}, nil
}

// PrincipalFromSPN parses "service/host" (or "user") into a principal name:
// NT_SRV_INST when it has a slash, NT_PRINCIPAL otherwise. Case is kept.
func PrincipalFromSPN(spn string) types.PrincipalName {
	pn, _ := types.ParseSPNString(spn)
	if len(pn.NameString) > 1 {
		pn.NameType = nametype.KRB_NT_SRV_INST
	} else {
		pn.NameType = nametype.KRB_NT_PRINCIPAL
	}
	return pn
}

// TGSName is krbtgt/realm, the TGS of realm (or a cross-realm TGS when asked of another realm).
func TGSName(realm string) types.PrincipalName {
	return types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", realm}}
}

func newNonce() (int, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(math.MaxInt32))
	if err != nil {
		return 0, fmt.Errorf("kerberos: nonce: %w", err)
	}
	return int(n.Int64()), nil
}
