package kerberos

import (
	"context"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// OwnTicket is a plain TGS exchange: a ticket to spn for the client's own
// principal, as a device's user asks for the gateway's service ticket
// before presenting it in "Proxy-Authorization: Negotiate" (AppTunnel
// Kerberos device authentication, ATS-17). spn may name a realm
// ("HTTP/gw@REALM"); the client's realm is assumed otherwise.
func (c *S4UClient) OwnTicket(ctx context.Context, spn string) (Credential, error) {
	tgt, err := c.TGT(ctx)
	if err != nil {
		return Credential{}, err
	}
	name, realm := types.ParseSPNString(spn)
	if realm == "" {
		realm = c.Realm
	}
	p := c.params(tgt, realm, PrincipalFromSPN(name.PrincipalNameString()))
	cr, err := c.tgs(ctx, c.Realm, func() (messages.TGSReq, int, error) { return NewTGSReq(p) }, tgt)
	if err != nil {
		return Credential{}, fmt.Errorf("kerberos: ticket to %s for %s@%s: %w", spn, c.Principal, c.Realm, err)
	}
	return cr, nil
}
