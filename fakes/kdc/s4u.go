package kdc

import (
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
)

// s4u2Self answers a TGS-REQ with PA-FOR-USER. Three shapes, as MS-SFU
// 3.1.5.1.1 and MIT's KDC handle them:
//   - local: a service of ours, with its own TGT, asks for itself for a user of ours;
//   - user realm: a foreign service, with a cross-realm TGT, asks us for
//     krbtgt/ITS-REALM for a user of ours: the referral names the user;
//   - service realm: that referral comes back naming the user, the service asks for itself.
//
// The evidence ticket is forwardable unless the service has an
// allowed-to-delegate-to list without ok_to_auth_as_delegate (MS-SFU
// 3.2.5.1.2 as MIT's s4u2self_forwardable applies it, checked against
// krb5kdc in mitkdc_test.go); S4U2Proxy then refuses it.
func (s *Server) s4u2Self(tc *tgsContext, b []byte) ([]byte, *kdcError) {
	pa, err := kerberos.DecodePAForUser(b)
	if err != nil {
		return nil, newErr(errorcode.KRB_ERR_GENERIC, "malformed PA-FOR-USER")
	}
	if err := pa.Verify(tc.tgt.Key); err != nil {
		return nil, newErr(errorcode.KRB_AP_ERR_MODIFIED, "PA-FOR-USER checksum mismatch")
	}
	sname := tc.req.ReqBody.SName
	// User realm: issue the referral back to the service's realm, naming the user.
	if len(sname.NameString) == 2 && sname.NameString[0] == "krbtgt" && sname.NameString[1] != s.cfg.Realm {
		if pa.UserRealm != s.cfg.Realm {
			return nil, newErr(errorcode.KDC_ERR_WRONG_REALM, "user realm %s is not %s", pa.UserRealm, s.cfg.Realm)
		}
		if tc.tgtRealm != sname.NameString[1] {
			return nil, newErr(errorcode.KDC_ERR_BADOPTION, "S4U2Self referral must go back to the requester's realm")
		}
		user, e := s.localUser(pa.UserName)
		if e != nil {
			return nil, e
		}
		return s.issueTGS(tc, user.name, s.cfg.Realm, sname, []int{flags.Forwardable, flags.PreAuthent})
	}
	if tc.req.ReqBody.Realm != s.cfg.Realm {
		return nil, newErr(errorcode.KDC_ERR_WRONG_REALM, "this KDC serves %s", s.cfg.Realm)
	}
	svc, ok := s.lookup(sname.PrincipalNameString())
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN, "server not found")
	}
	switch {
	case tc.tgtRealm == s.cfg.Realm:
		// Local: the requester must be the service itself, the user ours.
		if tc.tgt.CRealm != s.cfg.Realm || !tc.tgt.CName.Equal(sname) {
			return nil, newErr(errorcode.KDC_ERR_BADOPTION, "S4U2Self is only for the requesting service itself")
		}
		if e := s.localClientError(tc.tgt); e != nil {
			return nil, e
		}
		if pa.UserRealm != s.cfg.Realm {
			return nil, newErr(errorcode.KDC_ERR_WRONG_REALM, "user realm %s: ask its KDC first", pa.UserRealm)
		}
		if _, e := s.localUser(pa.UserName); e != nil {
			return nil, e
		}
	default:
		// Service realm, second hop: the referral must name the PA-FOR-USER user.
		if !tc.tgt.CName.Equal(pa.UserName) || tc.tgt.CRealm != pa.UserRealm {
			return nil, newErr(errorcode.KDC_ERR_BADOPTION, "referral TGT does not name the PA-FOR-USER user")
		}
	}
	fl := []int{flags.PreAuthent}
	if svc.OKToAuthAsDelegate || len(svc.AllowedToDelegateTo) == 0 {
		fl = append(fl, flags.Forwardable)
	}
	return s.issueTGS(tc, pa.UserName, pa.UserRealm, sname, fl)
}

func (s *Server) localUser(name types.PrincipalName) (*entry, *kdcError) {
	u, ok := s.lookup(name.PrincipalNameString())
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, "user not found")
	}
	if e := u.clientError(s.cfg.Now()); e != nil {
		return nil, e
	}
	return u, nil
}

// s4u2Proxy answers a TGS-REQ with cname-in-addl-tkt: a ticket to the target
// for the client of the evidence ticket, if the requester may delegate to it.
// Targets in another realm are refused (cross-realm S4U2Proxy, KDC-09).
func (s *Server) s4u2Proxy(tc *tgsContext) ([]byte, *kdcError) {
	body := tc.req.ReqBody
	target := body.SName.PrincipalNameString()
	if body.Realm != s.cfg.Realm {
		return nil, newErr(errorcode.KDC_ERR_BADOPTION, "cross-realm S4U2Proxy to %s@%s is not supported", target, body.Realm)
	}
	if tc.tgtRealm != s.cfg.Realm || tc.tgt.CRealm != s.cfg.Realm {
		return nil, newErr(errorcode.KDC_ERR_BADOPTION, "S4U2Proxy needs a TGT of this realm")
	}
	svc, ok := s.lookup(tc.tgt.CName.PrincipalNameString())
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, "requesting service not found")
	}
	if e := svc.clientError(s.cfg.Now()); e != nil {
		return nil, e
	}
	if len(body.AdditionalTickets) == 0 {
		return nil, newErr(errorcode.KDC_ERR_BADOPTION, "cname-in-addl-tkt without an additional ticket")
	}
	ev := body.AdditionalTickets[0]
	if ev.Realm != s.cfg.Realm || !ev.SName.Equal(svc.name) {
		return nil, newErr(errorcode.KDC_ERR_BADOPTION, "evidence ticket is not for the requesting service")
	}
	k, ok := svc.keys[ev.EncPart.EType]
	if !ok {
		return nil, newErr(errorcode.KDC_ERR_ETYPE_NOSUPP, "evidence ticket etype %d", ev.EncPart.EType)
	}
	if err := ev.Decrypt(k); err != nil {
		return nil, newErr(errorcode.KRB_AP_ERR_BAD_INTEGRITY, "evidence ticket does not decrypt")
	}
	evp := ev.DecryptedEncPart
	if !s.cfg.Now().Before(evp.EndTime) {
		return nil, newErr(errorcode.KRB_AP_ERR_TKT_EXPIRED, "evidence ticket expired")
	}
	if !types.IsFlagSet(&evp.Flags, flags.Forwardable) {
		return nil, newErr(errorcode.KDC_ERR_BADOPTION, "evidence ticket is not forwardable (service not ok_to_auth_as_delegate)")
	}
	if !svc.mayDelegateTo(target) {
		return nil, newErr(errorcode.KDC_ERR_BADOPTION, "%s may not delegate to %s", svc.Name, target)
	}
	if evp.CRealm == s.cfg.Realm {
		if _, e := s.localUser(evp.CName); e != nil {
			return nil, e
		}
	}
	return s.issueTGS(tc, evp.CName, evp.CRealm, body.SName, []int{flags.Forwardable, flags.PreAuthent})
}
