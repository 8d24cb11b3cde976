package activesync

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/kcd"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Delegation gives the Negotiate header that authenticates a user (by
// UPN) to a server (by SPN): *kcd.KCD.
type Delegation interface {
	NegotiateHeader(ctx context.Context, upn, spn string) (string, error)
}

var _ Delegation = (*kcd.KCD)(nil)

// SetKerberos sets the Kerberos constrained delegation used by services
// whose server authentication is Kerberos (KRB-01); nil: none configured.
func (h *Handler) SetKerberos(d Delegation) {
	if d == nil {
		h.kerberos.Store(nil)
		return
	}
	h.kerberos.Store(&d)
}

// delegate prepares the Negotiate header of a request whose service uses
// Kerberos server authentication: for the identity certificate's UPN, to
// the SPN of the service's first server (the Router may fail over to
// another server of the list, which then gets this SPN's ticket).
func (h *Handler) delegate(r *http.Request, x *exchange) error {
	rt := h.router.Load()
	if rt == nil {
		return nil
	}
	svc := rt.Route(r)
	if svc == nil || svc.Config().ServerAuth != uemapi.AuthKerberos {
		return nil
	}
	d := h.kerberos.Load()
	switch {
	case d == nil:
		return errors.New("no Kerberos configuration from the UEM")
	case x.upn == "":
		return errors.New("no UPN: Kerberos delegation needs identity certificate device authentication")
	}
	host := ""
	if servers := svc.Servers(); len(servers) > 0 {
		host = servers[0].Addr()
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
	}
	spn, err := kcd.SPNFor(svc.Config(), host)
	if err != nil {
		return err
	}
	x.negotiate, err = (*d).NegotiateHeader(r.Context(), x.upn, spn)
	return err
}
