package exchange

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// NegotiateAuthenticator accepts "Authorization: Negotiate" (SPNEGO with a
// Kerberos AP-REQ, RFC 4559) for the service whose keys Keytab holds, as
// an Exchange CAS with Kerberos (and so KCD from a gateway) does. The
// ticket's client name is the logon name; Realm, when set, must be the
// client's realm. Basic, when set, is tried for requests without Negotiate.
type NegotiateAuthenticator struct {
	Keytab *keytab.Keytab
	Realm  string
	Basic  Authenticator

	mu   sync.Mutex
	seen []string // "user@REALM" of every accepted ticket, in order
}

// Authenticate implements Authenticator.
func (n *NegotiateAuthenticator) Authenticate(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Negotiate") {
		if n.Basic != nil {
			return n.Basic.Authenticate(r)
		}
		return "", ErrNoCredentials
	}
	user, realm, err := n.verify(strings.TrimSpace(tok))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadCredentials, err)
	}
	if n.Realm != "" && realm != n.Realm {
		return "", fmt.Errorf("%w: client realm %s", ErrBadCredentials, realm)
	}
	n.mu.Lock()
	n.seen = append(n.seen, user+"@"+realm)
	n.mu.Unlock()
	return user, nil
}

func (n *NegotiateAuthenticator) verify(tok string) (user, realm string, err error) {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return "", "", fmt.Errorf("token is not base64")
	}
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(b); err != nil {
		return "", "", fmt.Errorf("SPNEGO: %w", err)
	}
	if !st.Init {
		return "", "", fmt.Errorf("SPNEGO: not a NegTokenInit")
	}
	var k5 spnego.KRB5Token
	if err := k5.Unmarshal(st.NegTokenInit.MechTokenBytes); err != nil {
		return "", "", fmt.Errorf("KRB5 token: %w", err)
	}
	if !k5.IsAPReq() {
		return "", "", fmt.Errorf("KRB5 token is not an AP-REQ")
	}
	n.mu.Lock()
	kt := n.Keytab
	n.mu.Unlock()
	ok, creds, err := service.VerifyAPREQ(&k5.APReq, service.NewSettings(kt, service.DecodePAC(false)))
	if err != nil || !ok {
		return "", "", fmt.Errorf("AP-REQ refused: %v", err)
	}
	return creds.UserName(), creds.Domain(), nil
}

// SetKeytab replaces the service's keys while the server runs, as a
// password change of the Exchange service account does: tickets
// encrypted with the old key are refused from then on.
func (n *NegotiateAuthenticator) SetKeytab(kt *keytab.Keytab) {
	n.mu.Lock()
	n.Keytab = kt
	n.mu.Unlock()
}

// Challenges implements Authenticator.
func (n *NegotiateAuthenticator) Challenges() []string {
	c := []string{"Negotiate"}
	if n.Basic != nil {
		c = append(c, n.Basic.Challenges()...)
	}
	return c
}

// Seen returns the Kerberos clients ("user@REALM") authenticated so far.
func (n *NegotiateAuthenticator) Seen() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.seen...)
}
