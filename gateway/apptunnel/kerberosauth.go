package apptunnel

import (
	"net/http"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
)

// kerberosIdentity is Kerberos device authentication (ATS-17,
// docs/apptunnel.md §1): the app sends "Proxy-Authorization: Negotiate
// <token>" with a service ticket for the gateway's own principal, checked
// with the gateway's keys. A connection keeps the identity its ticket
// gave (RFC 4559 authenticates connections): later requests on it may
// leave the header out or repeat it; a different token is checked anew.
// The user is the ticket's client, "name@realm" with the realm in lower
// case, as a UPN in a realm named after its DNS domain.
func (s *Server) kerberosIdentity(r *http.Request) (*deviceauth.Identity, *refusal) {
	var acc Acceptor
	if s.cfg.Acceptor != nil {
		acc = s.cfg.Acceptor()
	}
	if acc == nil {
		return nil, refuse(ReasonAuthUnsupported, "Kerberos device authentication without a Kerberos configuration")
	}
	tok := r.Header.Get("Proxy-Authorization")
	ci, _ := r.Context().Value(connKey{}).(*connInfo)
	if ci != nil {
		if c := ci.auth.Load(); c != nil && c.by == acc && (tok == "" || tok == c.token) {
			return c.id, nil
		}
	}
	if scheme, _, _ := strings.Cut(tok, " "); !strings.EqualFold(scheme, "Negotiate") {
		return nil, refuse(ReasonNegotiate, "no Negotiate Proxy-Authorization")
	}
	who, err := acc.AcceptNegotiate(tok)
	if err != nil {
		return nil, refuse(ReasonTicketRefused, err.Error())
	}
	name, realm, ok := strings.Cut(who, "@")
	if !ok || name == "" || realm == "" {
		return nil, refuse(ReasonTicketRefused, "ticket client "+who)
	}
	id := &deviceauth.Identity{UPN: name + "@" + strings.ToLower(realm), Realm: strings.ToUpper(realm)}
	if ci != nil {
		ci.auth.Store(&checkedIdentity{by: acc, token: tok, id: id})
	}
	return id, nil
}
