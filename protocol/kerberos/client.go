package kerberos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Transport carries one Kerberos message (no TCP length prefix) to a KDC of
// realm and returns its reply. gateway/kerberos/discovery provides one over UDP/TCP.
type Transport interface {
	RoundTrip(ctx context.Context, realm string, msg []byte) ([]byte, error)
}

// TransportFunc adapts a function to Transport.
type TransportFunc func(ctx context.Context, realm string, msg []byte) ([]byte, error)

// RoundTrip calls f.
func (f TransportFunc) RoundTrip(ctx context.Context, realm string, msg []byte) ([]byte, error) {
	return f(ctx, realm, msg)
}

// S4UClient obtains service tickets on behalf of users for a delegating
// service (the gateway's principal): AS exchange for its own TGT, S4U2Self
// for an evidence ticket (cross-realm when the user realm differs), then
// S4U2Proxy for the target SPN. It caches only its TGTs; caching service
// tickets is the caller's policy. Safe for concurrent use.
type S4UClient struct {
	Principal string        // service principal, e.g. "HTTP/sentry1_eas_kcd"
	Realm     string        // its realm, e.g. "CORP.EXAMPLE"
	Secret    Secret        // password or keytab of Principal
	Transport Transport     // how requests reach KDCs
	ETypes    []int32       // DefaultETypes when empty
	Lifetime  time.Duration // ticket lifetime asked for, 10h when zero
	Now       func() time.Time

	mu   sync.Mutex
	tgts map[string]Credential // "" is the TGT; other keys are referral TGTs krbtgt/KEY@Realm
}

func (c *S4UClient) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *S4UClient) lifetime() time.Duration {
	if c.Lifetime > 0 {
		return c.Lifetime
	}
	return 10 * time.Hour
}

func (c *S4UClient) service() types.PrincipalName { return PrincipalFromSPN(c.Principal) }

func (c *S4UClient) exchange(ctx context.Context, realm string, req interface{ Marshal() ([]byte, error) }) ([]byte, error) {
	b, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("kerberos: marshal request: %w", err)
	}
	if c.Transport == nil {
		return nil, errors.New("kerberos: S4UClient has no Transport")
	}
	rep, err := c.Transport.RoundTrip(ctx, realm, b)
	if err != nil {
		return nil, fmt.Errorf("kerberos: KDC of %s: %w", realm, err)
	}
	return rep, nil
}

func (c *S4UClient) cached(key string) (Credential, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cr, ok := c.tgts[key]
	if !ok || !cr.EndTime.After(c.now().Add(time.Minute)) {
		return Credential{}, false
	}
	return cr, true
}

func (c *S4UClient) store(key string, cr Credential) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tgts == nil {
		c.tgts = map[string]Credential{}
	}
	c.tgts[key] = cr
}

// Invalidate drops the cached TGTs, forcing a new AS exchange.
func (c *S4UClient) Invalidate() {
	c.mu.Lock()
	c.tgts = nil
	c.mu.Unlock()
}

// Login runs the AS exchange (answering PREAUTH_REQUIRED with
// PA-ENC-TIMESTAMP) and caches the TGT. Errors carry the KRB-ERROR code.
func (c *S4UClient) Login(ctx context.Context) (Credential, error) {
	cname := c.service()
	req, err := NewASReq(cname, c.Realm, c.ETypes, c.now().Add(c.lifetime()))
	if err != nil {
		return Credential{}, err
	}
	keyFor := func(et int32) (types.EncryptionKey, error) { return c.Secret.Key(cname, c.Realm, et, nil) }
	rep, err := c.exchange(ctx, c.Realm, &req)
	if err != nil {
		return Credential{}, err
	}
	cr, err := ParseASRep(rep, req.ReqBody.Nonce, keyFor)
	if md, et, ok := PreauthHint(err); ok {
		if et == 0 {
			et = req.ReqBody.EType[0]
		}
		key, kerr := c.Secret.Key(cname, c.Realm, et, md)
		if kerr != nil {
			return Credential{}, kerr
		}
		keyFor = func(e int32) (types.EncryptionKey, error) {
			if e == key.KeyType {
				return key, nil
			}
			return c.Secret.Key(cname, c.Realm, e, md)
		}
		if err := AddEncTimestamp(&req, key, c.now()); err != nil {
			return Credential{}, err
		}
		if rep, err = c.exchange(ctx, c.Realm, &req); err != nil {
			return Credential{}, err
		}
		cr, err = ParseASRep(rep, req.ReqBody.Nonce, keyFor)
	}
	if err != nil {
		return Credential{}, fmt.Errorf("kerberos: AS exchange for %s@%s: %w", c.Principal, c.Realm, err)
	}
	c.store("", cr)
	return cr, nil
}

// TGT returns the cached TGT, logging in when there is none or it expires within a minute.
func (c *S4UClient) TGT(ctx context.Context) (Credential, error) {
	if cr, ok := c.cached(""); ok {
		return cr, nil
	}
	return c.Login(ctx)
}

func (c *S4UClient) tgs(ctx context.Context, realm string, build func() (messages.TGSReq, int, error), tgt Credential) (Credential, error) {
	req, nonce, err := build()
	if err != nil {
		return Credential{}, err
	}
	rep, err := c.exchange(ctx, realm, &req)
	if err != nil {
		return Credential{}, err
	}
	return ParseTGSRep(rep, tgt, nonce)
}

func (c *S4UClient) params(tgt Credential, realm string, server types.PrincipalName) TGSParams {
	return TGSParams{TGT: tgt, Realm: realm, Server: server, ETypes: c.ETypes, Till: c.now().Add(c.lifetime()), Now: c.now()}
}

// referralTGT returns krbtgt/realm@c.Realm, asking the local KDC when not cached.
func (c *S4UClient) referralTGT(ctx context.Context, realm string) (Credential, error) {
	if cr, ok := c.cached(realm); ok {
		return cr, nil
	}
	tgt, err := c.TGT(ctx)
	if err != nil {
		return Credential{}, err
	}
	p := c.params(tgt, c.Realm, TGSName(realm))
	cr, err := c.tgs(ctx, c.Realm, func() (messages.TGSReq, int, error) { return NewTGSReq(p) }, tgt)
	if err != nil {
		return Credential{}, fmt.Errorf("kerberos: cross-realm TGT krbtgt/%s@%s: %w", realm, c.Realm, err)
	}
	c.store(realm, cr)
	return cr, nil
}

// Self runs S4U2Self for user@userRealm and returns the evidence ticket (a
// ticket to the service itself, client = the user). A user of another realm
// takes three hops: referral TGT to the user realm, S4U2Self there for a
// referral back, S4U2Self at home with it (MS-SFU 3.1.5.1.1.2).
func (c *S4UClient) Self(ctx context.Context, user types.PrincipalName, userRealm string) (Credential, error) {
	self := c.service()
	if userRealm == c.Realm {
		tgt, err := c.TGT(ctx)
		if err != nil {
			return Credential{}, err
		}
		p := S4U2SelfParams{TGSParams: c.params(tgt, c.Realm, self), User: user, UserRealm: userRealm}
		cr, err := c.tgs(ctx, c.Realm, func() (messages.TGSReq, int, error) { return NewS4U2SelfReq(p) }, tgt)
		if err != nil {
			return Credential{}, fmt.Errorf("kerberos: S4U2Self for %s@%s: %w", user.PrincipalNameString(), userRealm, err)
		}
		return cr, nil
	}
	xtgt, err := c.referralTGT(ctx, userRealm)
	if err != nil {
		return Credential{}, err
	}
	p := S4U2SelfParams{TGSParams: c.params(xtgt, userRealm, TGSName(c.Realm)), User: user, UserRealm: userRealm}
	back, err := c.tgs(ctx, userRealm, func() (messages.TGSReq, int, error) { return NewS4U2SelfReq(p) }, xtgt)
	if err != nil {
		return Credential{}, fmt.Errorf("kerberos: S4U2Self for %s@%s at the user realm: %w", user.PrincipalNameString(), userRealm, err)
	}
	p = S4U2SelfParams{TGSParams: c.params(back, c.Realm, self), User: user, UserRealm: userRealm}
	cr, err := c.tgs(ctx, c.Realm, func() (messages.TGSReq, int, error) { return NewS4U2SelfReq(p) }, back)
	if err != nil {
		return Credential{}, fmt.Errorf("kerberos: S4U2Self for %s@%s with the referral: %w", user.PrincipalNameString(), userRealm, err)
	}
	return cr, nil
}

// Proxy runs S4U2Proxy at the service's KDC: a ticket to spn for the
// evidence ticket's client. spn may name a realm ("http/host@REALM"); the
// service's realm is assumed otherwise.
func (c *S4UClient) Proxy(ctx context.Context, evidence Credential, spn string) (Credential, error) {
	tgt, err := c.TGT(ctx)
	if err != nil {
		return Credential{}, err
	}
	name, realm := types.ParseSPNString(spn)
	if realm == "" {
		realm = c.Realm
	}
	p := c.params(tgt, realm, PrincipalFromSPN(name.PrincipalNameString()))
	cr, err := c.tgs(ctx, c.Realm, func() (messages.TGSReq, int, error) { return NewS4U2ProxyReq(p, evidence.Ticket) }, tgt)
	if err != nil {
		return Credential{}, fmt.Errorf("kerberos: S4U2Proxy to %s: %w", spn, err)
	}
	return cr, nil
}

// ServiceCredential returns a ticket to spn for the user named by upn
// ("user@REALM"; see ParseUPN), with its session key and client name.
func (c *S4UClient) ServiceCredential(ctx context.Context, upn, spn string) (Credential, error) {
	user, realm, err := ParseUPN(upn)
	if err != nil {
		return Credential{}, err
	}
	ev, err := c.Self(ctx, user, realm)
	if err != nil {
		return Credential{}, err
	}
	return c.Proxy(ctx, ev, spn)
}

// ServiceTicket is ServiceCredential returning the ticket and session key,
// ready for SPNEGOHeader.
func (c *S4UClient) ServiceTicket(ctx context.Context, upn, spn string) (messages.Ticket, types.EncryptionKey, error) {
	cr, err := c.ServiceCredential(ctx, upn, spn)
	return cr.Ticket, cr.Key, err
}

// ParseUPN splits "user@realm" at the last '@'. The realm part is upper-cased
// when it is all lower case (a UPN suffix is a DNS domain); mixed case is kept
// so that KDC discovery can see it (INC-10).
func ParseUPN(upn string) (types.PrincipalName, string, error) {
	i := strings.LastIndexByte(upn, '@')
	if i <= 0 || i == len(upn)-1 {
		return types.PrincipalName{}, "", fmt.Errorf("kerberos: UPN %q is not user@realm", upn)
	}
	realm := upn[i+1:]
	if realm == strings.ToLower(realm) {
		realm = strings.ToUpper(realm)
	}
	return types.PrincipalName{NameType: nametype.KRB_NT_PRINCIPAL, NameString: []string{upn[:i]}}, realm, nil
}
