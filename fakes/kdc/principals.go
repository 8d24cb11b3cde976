package kdc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Encryption types the fake KDC supports, strongest first.
const (
	AES256 int32 = 18 // aes256-cts-hmac-sha1-96
	AES128 int32 = 17 // aes128-cts-hmac-sha1-96
	RC4    int32 = 23 // rc4-hmac (arcfour-hmac)
)

func defaultETypes() []int32 { return []int32{AES256, AES128, RC4} }

// State is an account state; anything but Active makes the KDC refuse the
// principal as a client with the matching KRB-ERROR.
type State int

// Account states and the errors they produce.
const (
	Active          State = iota
	Disabled              // KDC_ERR_CLIENT_REVOKED (18), e-text "account disabled"
	Locked                // KDC_ERR_CLIENT_REVOKED (18), e-text "account locked out"
	PasswordExpired       // KDC_ERR_KEY_EXPIRED (23)
)

func (s State) String() string {
	switch s {
	case Active:
		return "active"
	case Disabled:
		return "disabled"
	case Locked:
		return "locked"
	case PasswordExpired:
		return "password-expired"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Principal is one database entry. Name is "user" or "service/host",
// case-sensitive, without the realm.
type Principal struct {
	Name     string
	Password string                // keys are derived with the default salt (realm + name components)
	Keys     []types.EncryptionKey // explicit keys, used when Password is empty
	ETypes   []int32               // etypes derived from Password; AES256, AES128, RC4 when empty
	KVNO     int                   // 1 when zero
	State    State
	Expires  time.Time // account expiry (KDC_ERR_NAME_EXP after it); zero never
	// OKToAuthAsDelegate is MIT's ok_to_auth_as_delegate (protocol
	// transition): S4U2Self evidence tickets stay forwardable even when the
	// service has an AllowedToDelegateTo list, so S4U2Proxy can use them.
	OKToAuthAsDelegate bool
	// AllowedToDelegateTo lists the SPNs S4U2Proxy may reach (MIT's
	// allowed_to_delegate_to); SPNs are case-sensitive (KRB-02).
	AllowedToDelegateTo []string
}

type entry struct {
	Principal
	name types.PrincipalName
	keys map[int32]types.EncryptionKey
}

func principalName(name string) types.PrincipalName {
	parts := strings.Split(name, "/")
	nt := nametype.KRB_NT_PRINCIPAL
	if len(parts) > 1 {
		nt = nametype.KRB_NT_SRV_INST
	}
	return types.PrincipalName{NameType: nt, NameString: parts}
}

func newEntry(p Principal, realm string) (*entry, error) {
	if p.Name == "" || strings.Contains(p.Name, "@") {
		return nil, fmt.Errorf("kdc: principal name %q is empty or contains '@'", p.Name)
	}
	if p.KVNO == 0 {
		p.KVNO = 1
	}
	e := &entry{Principal: p, name: principalName(p.Name), keys: map[int32]types.EncryptionKey{}}
	switch {
	case p.Password != "":
		ets := p.ETypes
		if len(ets) == 0 {
			ets = defaultETypes()
		}
		for _, et := range ets {
			k, _, err := crypto.GetKeyFromPassword(p.Password, e.name, realm, et, nil)
			if err != nil {
				return nil, fmt.Errorf("kdc: key for %s etype %d: %w", p.Name, et, err)
			}
			e.keys[et] = k
		}
	case len(p.Keys) > 0:
		for _, k := range p.Keys {
			if _, err := crypto.GetEtype(k.KeyType); err != nil {
				return nil, fmt.Errorf("kdc: key for %s: %w", p.Name, err)
			}
			e.keys[k.KeyType] = k
		}
	default:
		return nil, fmt.Errorf("kdc: principal %s needs a Password or Keys", p.Name)
	}
	e.Password = "" // keys only from here on
	return e, nil
}

// randomEntry is a principal with random keys of every supported etype.
func randomEntry(name string) (*entry, error) {
	p := Principal{Name: name}
	for _, et := range defaultETypes() {
		ety, err := crypto.GetEtype(et)
		if err != nil {
			return nil, err
		}
		k, err := types.GenerateEncryptionKey(ety)
		if err != nil {
			return nil, fmt.Errorf("kdc: random key: %w", err)
		}
		p.Keys = append(p.Keys, k)
	}
	return newEntry(p, "")
}

// strongestKey is the key tickets for this principal are encrypted with.
func (e *entry) strongestKey() (types.EncryptionKey, bool) {
	for _, et := range defaultETypes() {
		if k, ok := e.keys[et]; ok {
			return k, true
		}
	}
	for _, k := range e.keys {
		return k, true
	}
	return types.EncryptionKey{}, false
}

// clientError is the KRB-ERROR that refuses this principal as a client, if any.
func (e *entry) clientError(now time.Time) *kdcError {
	if !e.Expires.IsZero() && !now.Before(e.Expires) {
		return newErr(errorcode.KDC_ERR_NAME_EXP, "account expired")
	}
	switch e.State {
	case Disabled:
		return newErr(errorcode.KDC_ERR_CLIENT_REVOKED, "account disabled")
	case Locked:
		return newErr(errorcode.KDC_ERR_CLIENT_REVOKED, "account locked out")
	case PasswordExpired:
		return newErr(errorcode.KDC_ERR_KEY_EXPIRED, "password has expired")
	}
	return nil
}

func (e *entry) mayDelegateTo(spn string) bool {
	return slices.Contains(e.AllowedToDelegateTo, spn)
}

// AddPrincipal adds or replaces a principal of the server's realm.
func (s *Server) AddPrincipal(p Principal) error {
	e, err := newEntry(p, s.cfg.Realm)
	if err != nil {
		return err
	}
	if e.name.NameString[0] == "krbtgt" {
		return errors.New("kdc: krbtgt principals are managed by the KDC (use AddTrust)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.db[p.Name] = e
	return nil
}

// SetState changes the account state of a principal.
func (s *Server) SetState(name string, st State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.db[name]
	if !ok {
		return fmt.Errorf("kdc: no principal %q in %s", name, s.cfg.Realm)
	}
	e.State = st
	return nil
}

// SetExpiry sets the account expiry of a principal (zero: never).
func (s *Server) SetExpiry(name string, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.db[name]
	if !ok {
		return fmt.Errorf("kdc: no principal %q in %s", name, s.cfg.Realm)
	}
	e.Expires = t
	return nil
}

// AllowDelegation marks service as ok_to_auth_as_delegate and lets it
// delegate (S4U2Proxy) to the given SPNs, replacing its previous list.
func (s *Server) AllowDelegation(service string, targets ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.db[service]
	if !ok {
		return fmt.Errorf("kdc: no principal %q in %s", service, s.cfg.Realm)
	}
	e.OKToAuthAsDelegate = true
	e.AllowedToDelegateTo = slices.Clone(targets)
	return nil
}

// AddTrust creates the two cross-realm keys shared with realm other
// (krbtgt/OTHER@REALM and krbtgt/REALM@OTHER) from password. Call it with
// the same password on the other realm's KDC.
func (s *Server) AddTrust(other, password string) error {
	if other == "" || other == s.cfg.Realm || password == "" {
		return errors.New("kdc: AddTrust needs another realm and a password")
	}
	out, err := newEntry(Principal{Name: "krbtgt/" + other, Password: password}, s.cfg.Realm)
	if err != nil {
		return err
	}
	in, err := newEntry(Principal{Name: "krbtgt/" + s.cfg.Realm, Password: password}, other)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trustOut[other] = out
	s.trustIn[other] = in
	return nil
}

func (s *Server) lookup(name string) (*entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.db[name]
	if !ok {
		return nil, false
	}
	c := *e // callers read a snapshot; SetState may run concurrently
	return &c, true
}
