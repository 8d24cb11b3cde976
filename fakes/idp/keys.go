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
	// stray is never published: it signs for the "wrongly signed" fault.
	// It is made on first use: an RSA key costs tens of milliseconds,
	// paid by every lab and spec that starts an IdP.
	stray *jose.JSONWebKey
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
	return &keyRing{current: cur, published: []jose.JSONWebKey{cur.Public()}}, nil
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

// signing is the key that signs a token: the current one, or with stray
// the never-published one.
func (k *keyRing) signing(stray bool) (jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !stray {
		return k.current, nil
	}
	if k.stray == nil {
		sk, err := newKey()
		if err != nil {
			return jose.JSONWebKey{}, err
		}
		k.stray = &sk
	}
	// The stray key signs under the current kid: a wrongly signed
	// token a verifier must catch by its signature, not its kid.
	s := *k.stray
	s.KeyID = k.current.KeyID
	return s, nil
}

func (k *keyRing) set() jose.JSONWebKeySet {
	k.mu.Lock()
	defer k.mu.Unlock()
	return jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), k.published...)}
}
