package idp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// keyRing holds the signing key and the keys the JWKS publishes: after a
// rotation the previous key stays published (tokens it signed stay valid
// until they expire) unless the rotation drops it.
type keyRing struct {
	mu        sync.Mutex
	current   jose.JSONWebKey
	published []jose.JSONWebKey // public halves, current first
	stray     jose.JSONWebKey   // never published: the "wrongly signed" fault
}

func newKey() (jose.JSONWebKey, error) {
	pk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("idp: generate key: %w", err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return jose.JSONWebKey{Key: pk, KeyID: hex.EncodeToString(id[:]), Algorithm: string(jose.RS256), Use: "sig"}, nil
}

func newKeyRing() (*keyRing, error) {
	cur, err := newKey()
	if err != nil {
		return nil, err
	}
	stray, err := newKey()
	if err != nil {
		return nil, err
	}
	return &keyRing{current: cur, published: []jose.JSONWebKey{cur.Public()}, stray: stray}, nil
}

// rotate makes a new signing key; keepOld keeps the previous one published.
func (k *keyRing) rotate(keepOld bool) (string, error) {
	nk, err := newKey()
	if err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	pub := []jose.JSONWebKey{nk.Public()}
	if keepOld {
		pub = append(pub, k.published...)
		if len(pub) > 4 {
			pub = pub[:4]
		}
	}
	k.current, k.published = nk, pub
	return nk.KeyID, nil
}

func (k *keyRing) signing(stray bool) jose.JSONWebKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if stray {
		// The stray key signs under the current kid: a wrongly signed
		// token a verifier must catch by its signature, not its kid.
		s := k.stray
		s.KeyID = k.current.KeyID
		return s
	}
	return k.current
}

func (k *keyRing) set() jose.JSONWebKeySet {
	k.mu.Lock()
	defer k.mu.Unlock()
	return jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), k.published...)}
}
