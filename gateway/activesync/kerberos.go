package activesync

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Delegation gives the Negotiate header that authenticates a user (by
// UPN) to a server (by SPN), and forgets a ticket a server refused:
// *delegation.Delegator.
type Delegation interface {
	NegotiateHeader(ctx context.Context, upn, spn string) (string, error)
	Forget(upn, spn string) bool
}

var _ Delegation = (*delegation.Delegator)(nil)

// SetKerberos sets the Kerberos constrained delegation used by services
// whose server authentication is Kerberos (KRB-01); nil: none configured.
func (h *Handler) SetKerberos(d Delegation) {
	if d == nil {
		h.kerberos.Store(nil)
		return
	}
	h.kerberos.Store(&d)
}

// delegate prepares Kerberos server authentication for a request whose
// service uses it: the request gets a kerberosAuth that the Router asks
// for each server it tries, so the ticket is for the SPN of the server
// actually chosen (a failover or a 451 included). What cannot work for
// any server (no Kerberos configuration, no UPN) fails here.
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
		return errNoUPN
	}
	x.auth = &kerberosAuth{d: *d, svc: svc.Config(), upn: x.upn, x: x}
	return nil
}

// kerberosAuth is one request's upstream.Authorizer: a Negotiate header
// for the certificate's UPN to each server's SPN (KRB-02), from the
// ticket cache; a 401 purges that (UPN, SPN) ticket and asks for one
// retry with a fresh ticket; a second 401 counts kerberos-auth-error.
type kerberosAuth struct {
	d   Delegation
	svc uemapi.ActiveSyncService
	upn string
	x   *exchange

	mu      sync.Mutex
	refused int
}

var _ upstream.Authorizer = (*kerberosAuth)(nil)

func (k *kerberosAuth) Authorize(ctx context.Context, out *http.Request, hostport string) error {
	spn, err := delegation.SPNFor(k.svc, hostport)
	if err != nil {
		return err
	}
	v, err := k.d.NegotiateHeader(ctx, k.upn, spn)
	if err != nil {
		return err
	}
	// The server sees the gateway's delegated ticket for the user, never
	// the device's credentials.
	out.Header.Set("Authorization", v)
	return nil
}

func (k *kerberosAuth) Refused(_ context.Context, hostport string) bool {
	k.mu.Lock()
	k.refused++
	n := k.refused
	k.mu.Unlock()
	if spn, err := delegation.SPNFor(k.svc, hostport); err == nil {
		k.d.Forget(k.upn, spn)
	}
	if n > 1 {
		k.x.count(stats.KerberosAuthError)
		return false
	}
	return true
}
