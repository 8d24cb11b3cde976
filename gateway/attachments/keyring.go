package attachments

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Key is one attachment encryption key as the UEM issued it (ATT-08,
// ATT-10). The algorithm fixes the key length and the file extension:
// AES-256-GCM keys are 32 bytes and give ".attachctrl", the legacy
// "AES-128-ECB" keys are 16 bytes and give ".secure". The legacy kind is
// honoured as a key length only: this package always encrypts with GCM in
// the chunked format of docs/attachment-format.md, never with ECB.
type Key struct {
	ID        string
	Algorithm uemapi.KeyAlgorithm
	Secret    []byte
}

// Extensions appended to encrypted attachments (ATT-07).
const (
	ExtAttachCtrl = ".attachctrl" // 256-bit keys
	ExtSecure     = ".secure"     // 128-bit (legacy) keys
)

// KeyFromUEM converts the UEM's answer to a Key and validates it.
func KeyFromUEM(k *uemapi.AttachmentKey) (Key, error) {
	key := Key{ID: k.ID, Algorithm: k.Algorithm, Secret: append([]byte(nil), k.Key...)}
	return key, key.Validate()
}

// Validate checks the id and that the secret's length matches the algorithm.
func (k *Key) Validate() error {
	if k.ID == "" || len(k.ID) > maxKeyID {
		return fmt.Errorf("attachments: key id must be 1-%d bytes, got %d", maxKeyID, len(k.ID))
	}
	want, err := secretLen(k.Algorithm)
	if err != nil {
		return err
	}
	if len(k.Secret) != want {
		return fmt.Errorf("attachments: key %q: %s needs a %d-byte secret, got %d", k.ID, k.Algorithm, want, len(k.Secret))
	}
	return nil
}

func secretLen(a uemapi.KeyAlgorithm) (int, error) {
	switch a {
	case uemapi.AES256GCM:
		return 32, nil
	case uemapi.AES128ECB:
		return 16, nil
	}
	return 0, fmt.Errorf("attachments: unknown key algorithm %q", a)
}

// Extension is the suffix this key's ciphertexts get (ATT-07).
func (k *Key) Extension() string {
	if k.Algorithm == uemapi.AES128ECB {
		return ExtSecure
	}
	return ExtAttachCtrl
}

// ErrNoKey is returned when encryption is asked for but the keyring holds
// no current key.
var ErrNoKey = errors.New("attachments: no attachment key installed")

// Keyring holds the current key and the older keys still accepted for
// decryption, by id. Readers (every attachment) load an immutable snapshot
// through an atomic pointer and never lock; writers (key regeneration,
// rare) serialise on a mutex and publish a new snapshot. The zero value is
// an empty keyring.
type Keyring struct {
	mu sync.Mutex // writers only
	p  atomic.Pointer[keySet]
}

type keySet struct {
	current *Key
	byID    map[string]*Key
}

// NewKeyring returns a keyring whose current key is the last of keys; the
// others stay available for decryption.
func NewKeyring(keys ...Key) (*Keyring, error) {
	kr := &Keyring{}
	for _, k := range keys {
		if err := kr.Install(k); err != nil {
			return nil, err
		}
	}
	return kr, nil
}

// Install makes k the current key (key regeneration, ATT-11). Keys installed
// before stay available for decryption until Retire or Replace drops them.
func (kr *Keyring) Install(k Key) error {
	if err := k.Validate(); err != nil {
		return err
	}
	k.Secret = append([]byte(nil), k.Secret...)
	kr.mu.Lock()
	defer kr.mu.Unlock()
	next := &keySet{current: &k, byID: map[string]*Key{k.ID: &k}}
	if old := kr.p.Load(); old != nil {
		for id, ok := range old.byID {
			if id != k.ID {
				next.byID[id] = ok
			}
		}
	}
	kr.p.Store(next)
	return nil
}

// Replace makes k the only key: attachments encrypted with any earlier key
// can no longer be decrypted, which is what the seeds describe after a
// regeneration (ATT-11).
func (kr *Keyring) Replace(k Key) error {
	if err := k.Validate(); err != nil {
		return err
	}
	k.Secret = append([]byte(nil), k.Secret...)
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.p.Store(&keySet{current: &k, byID: map[string]*Key{k.ID: &k}})
	return nil
}

// Retire forgets a key that is not current. It reports whether it did.
func (kr *Keyring) Retire(id string) bool {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	old := kr.p.Load()
	if old == nil || old.byID[id] == nil || old.current.ID == id {
		return false
	}
	next := &keySet{current: old.current, byID: make(map[string]*Key, len(old.byID)-1)}
	for kid, k := range old.byID {
		if kid != id {
			next.byID[kid] = k
		}
	}
	kr.p.Store(next)
	return true
}

// Current returns the key new attachments are encrypted with.
func (kr *Keyring) Current() (*Key, bool) {
	if kr == nil {
		return nil, false
	}
	s := kr.p.Load()
	if s == nil {
		return nil, false
	}
	return s.current, true
}

// Lookup returns the key with the given id, current or older.
func (kr *Keyring) Lookup(id string) (*Key, bool) {
	if kr == nil {
		return nil, false
	}
	s := kr.p.Load()
	if s == nil {
		return nil, false
	}
	k, ok := s.byID[id]
	return k, ok
}

// IDs lists the ids of every key held, current first.
func (kr *Keyring) IDs() []string {
	s := kr.p.Load()
	if s == nil {
		return nil
	}
	out := []string{s.current.ID}
	for id := range s.byID {
		if id != s.current.ID {
			out = append(out, id)
		}
	}
	return out
}
