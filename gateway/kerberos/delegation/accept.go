package delegation

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// ErrNoNegotiate is AcceptNegotiate's error for a value that is not
// "Negotiate <token>": the device must be asked for a ticket.
var ErrNoNegotiate = errors.New("delegation: no Negotiate token")

// acceptETypes are the keys derived from a password (no keytab): the
// etypes a KDC issues tickets in for the gateway's principal.
var acceptETypes = []int32{18, 17, 23}

// acceptKeys are the gateway's own keys for verifying the service tickets
// devices present, derived once from the password (KRB-04).
type acceptKeys struct {
	once sync.Once
	kt   *keytab.Keytab
	err  error
}

// AcceptNegotiate verifies a "Negotiate <base64>" value (RFC 4559: SPNEGO
// with a Kerberos AP-REQ, or a bare Kerberos token) whose ticket is for the
// gateway's own service principal, with the gateway's keytab or the keys
// of its password: AppTunnel Kerberos device authentication (ATS-17). It
// returns the ticket's client, "name@REALM". Replayed authenticators are
// refused (gokrb5's replay cache).
func (k *Delegator) AcceptNegotiate(value string) (string, error) {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(value), " ")
	if !strings.EqualFold(scheme, "Negotiate") || strings.TrimSpace(tok) == "" {
		return "", ErrNoNegotiate
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
	if err != nil {
		return "", fmt.Errorf("delegation: Negotiate token is not base64")
	}
	ap, err := apReq(raw)
	if err != nil {
		return "", err
	}
	kt, err := k.acceptKeytab()
	if err != nil {
		return "", err
	}
	if !k.cfg.UseKeytab {
		// A password does not say which key version the KDC is at; the
		// version number is outside the ticket's encrypted (and so
		// authenticated) part: any version is tried against the keys.
		ap.Ticket.EncPart.KVNO = 0
	}
	ok, creds, err := service.VerifyAPREQ(ap, service.NewSettings(kt, service.DecodePAC(false), service.MaxClockSkew(5*time.Minute)))
	if err != nil || !ok {
		return "", fmt.Errorf("delegation: ticket refused: %v", err)
	}
	return creds.UserName() + "@" + creds.Domain(), nil
}

// apReq finds the AP-REQ in a SPNEGO NegTokenInit or a bare KRB5 token.
func apReq(raw []byte) (*messages.APReq, error) {
	var st spnego.SPNEGOToken
	mech := raw
	if err := st.Unmarshal(raw); err == nil {
		if !st.Init {
			return nil, errors.New("delegation: SPNEGO token is not a NegTokenInit")
		}
		mech = st.NegTokenInit.MechTokenBytes
	}
	var k5 spnego.KRB5Token
	if err := k5.Unmarshal(mech); err != nil {
		return nil, fmt.Errorf("delegation: Kerberos token: %w", err)
	}
	if !k5.IsAPReq() {
		return nil, errors.New("delegation: Kerberos token is not an AP-REQ")
	}
	return &k5.APReq, nil
}

// acceptKeytab is the gateway's keytab, or the one its password gives.
func (k *Delegator) acceptKeytab() (*keytab.Keytab, error) {
	if k.cfg.UseKeytab {
		return k.client.Secret.Keytab, nil
	}
	k.accept.once.Do(func() {
		kt := keytab.New()
		for _, et := range acceptETypes {
			if err := kt.AddEntry(k.spn, k.realm, k.cfg.Password, time.Now(), 1, et); err != nil {
				k.accept.err = fmt.Errorf("delegation: keys of %s: %w", k.spn, err)
				return
			}
		}
		k.accept.kt = kt
	})
	return k.accept.kt, k.accept.err
}
