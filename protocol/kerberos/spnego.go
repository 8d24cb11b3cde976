package kerberos

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// SPNEGOToken returns the SPNEGO NegTokenInit wrapping a Kerberos AP-REQ for
// tkt (RFC 4178, RFC 4121 4.1.1), authenticating as client@clientRealm.
func SPNEGOToken(tkt messages.Ticket, key types.EncryptionKey, client types.PrincipalName, clientRealm string, now time.Time) ([]byte, error) {
	auth, err := types.NewAuthenticator(clientRealm, client)
	if err != nil {
		return nil, fmt.Errorf("kerberos: authenticator: %w", err)
	}
	now = now.UTC()
	auth.CTime = now.Truncate(time.Second)
	auth.Cusec = now.Nanosecond() / 1000
	// GSS checksum: Lgth 16, zero channel bindings, flags integ|conf.
	ck := make([]byte, 24)
	binary.LittleEndian.PutUint32(ck, 16)
	binary.LittleEndian.PutUint32(ck[20:], uint32(gssapi.ContextFlagInteg|gssapi.ContextFlagConf))
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: ck}
	ap, err := messages.NewAPReq(tkt, key, auth)
	if err != nil {
		return nil, fmt.Errorf("kerberos: AP-REQ: %w", err)
	}
	apb, err := ap.Marshal()
	if err != nil {
		return nil, fmt.Errorf("kerberos: marshal AP-REQ: %w", err)
	}
	oid, err := asn1.Marshal(gssapi.OIDKRB5.OID())
	if err != nil {
		return nil, fmt.Errorf("kerberos: marshal mech OID: %w", err)
	}
	mech := asn1tools.AddASNAppTag(append(append(oid, 0x01, 0x00), apb...), 0)
	tok := spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{
		MechTypes:      []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID()},
		MechTokenBytes: mech,
	}}
	b, err := tok.Marshal()
	if err != nil {
		return nil, fmt.Errorf("kerberos: marshal SPNEGO token: %w", err)
	}
	return b, nil
}

// SPNEGOHeader returns the "Negotiate <base64>" Authorization value for tkt.
func SPNEGOHeader(tkt messages.Ticket, key types.EncryptionKey, client types.PrincipalName, clientRealm string, now time.Time) (string, error) {
	b, err := SPNEGOToken(tkt, key, client, clientRealm, now)
	if err != nil {
		return "", err
	}
	return "Negotiate " + base64.StdEncoding.EncodeToString(b), nil
}

// NegotiateHeader is SPNEGOHeader for a credential from S4UClient.
func (c Credential) NegotiateHeader(now time.Time) (string, error) {
	return SPNEGOHeader(c.Ticket, c.Key, c.Client, c.ClientRealm, now)
}
