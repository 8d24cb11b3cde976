package delegation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// userTicket logs alice in at the fake KDC and gets her ticket to spn,
// as a device does before presenting it to the gateway (ATS-17).
func userTicket(t *testing.T, s *kdc.Server, spn string) kerberos.Credential {
	t.Helper()
	c := &kerberos.S4UClient{Principal: "alice", Realm: realm, Secret: kerberos.Secret{Password: "alice-pw"},
		Transport: kerberos.TransportFunc(func(ctx context.Context, _ string, msg []byte) ([]byte, error) { return s.Handle(msg), nil })}
	cr, err := c.OwnTicket(context.Background(), spn)
	if err != nil {
		t.Fatal(err)
	}
	return cr
}

func TestATS17AcceptsTheDevicesTicketForTheGateway(t *testing.T) {
	s := startKDC(t)
	raw, err := s.KeytabBytes(sentrySPN)
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]uemapi.KerberosConfig{
		"password": config(s),
		"keytab":   {UseKeytab: true, Keytab: raw, KDCs: s.Addr()},
	} {
		t.Run(name, func(t *testing.T) {
			k := newDelegator(t, cfg, delegation.Options{})
			cr := userTicket(t, s, sentrySPN)
			h, err := cr.NegotiateHeader(time.Now())
			if err != nil {
				t.Fatal(err)
			}
			who, err := k.AcceptNegotiate(h)
			if err != nil || who != "alice@"+realm {
				t.Fatalf("AcceptNegotiate = %q, %v; want alice@%s", who, err, realm)
			}
			if _, err := k.AcceptNegotiate(h); err == nil {
				t.Fatal("the same authenticator was accepted twice (replay)")
			}
			other, _ := userTicket(t, s, mailSPN).NegotiateHeader(time.Now())
			if _, err := k.AcceptNegotiate(other); err == nil {
				t.Fatal("a ticket for another service was accepted")
			}
		})
	}
}

func TestATS17RefusesWhatIsNotANegotiateTicket(t *testing.T) {
	k := newDelegator(t, config(startKDC(t)), delegation.Options{})
	for _, v := range []string{"", "Basic YWxpY2U6cHc=", "Negotiate", "Negotiate !!!", "Negotiate YWxpY2U="} {
		_, err := k.AcceptNegotiate(v)
		if err == nil {
			t.Fatalf("%q accepted", v)
		}
		if missing := v == "" || v == "Negotiate" || v[0] == 'B'; missing != errors.Is(err, delegation.ErrNoNegotiate) {
			t.Fatalf("%q: error %v; ErrNoNegotiate expected only without a token", v, err)
		}
	}
}
