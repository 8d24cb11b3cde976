package attachments

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func testKey(id string, alg uemapi.KeyAlgorithm) Key {
	n, _ := secretLen(alg)
	s := make([]byte, n)
	for i := range s {
		s[i] = byte(len(id) + i)
	}
	s[0] = id[0]
	return Key{ID: id, Algorithm: alg, Secret: s}
}

func testRing(t testing.TB, keys ...Key) *Keyring {
	t.Helper()
	kr, err := NewKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func pseudoRandom(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func encrypt(t testing.TB, plain []byte, k Key, log2 uint8) []byte {
	t.Helper()
	var out bytes.Buffer
	n, err := encryptStream(&out, bytes.NewReader(plain), &k, log2)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(plain)) {
		t.Fatalf("encrypted %d bytes, want %d", n, len(plain))
	}
	return out.Bytes()
}

// ATT-07, ATT-08: both key kinds round-trip at every size around the chunk
// boundaries, and the extension follows the key length.
func TestATT07_RoundTrip(t *testing.T) {
	for _, alg := range []uemapi.KeyAlgorithm{uemapi.AES256GCM, uemapi.AES128ECB} {
		k := testKey("k1", alg)
		kr := testRing(t, k)
		for _, log2 := range []uint8{10, DefaultChunkLog2} {
			c := 1 << log2
			for _, n := range []int{0, 1, c - 1, c, c + 1, 2 * c, 3*c + 7} {
				plain := pseudoRandom(n, uint64(n))
				ct := encrypt(t, plain, k, log2)
				var got bytes.Buffer
				if err := DecryptStream(&got, bytes.NewReader(ct), kr); err != nil {
					t.Fatalf("%s chunk 2^%d size %d: %v", alg, log2, n, err)
				}
				if !bytes.Equal(got.Bytes(), plain) {
					t.Fatalf("%s chunk 2^%d size %d: plaintext differs", alg, log2, n)
				}
				if log2 == DefaultChunkLog2 && EncryptedSize(int64(n), &k) != int64(len(ct)) {
					t.Fatalf("EncryptedSize(%d) = %d, file is %d", n, EncryptedSize(int64(n), &k), len(ct))
				}
			}
		}
	}
	k256, k128 := testKey("a", uemapi.AES256GCM), testKey("b", uemapi.AES128ECB)
	if k256.Extension() != ".attachctrl" || k128.Extension() != ".secure" {
		t.Fatalf("extensions %q %q", k256.Extension(), k128.Extension())
	}
	ct := encrypt(t, []byte("x"), k128, 16)
	if ct[4] != VersionAES128GCM {
		t.Fatalf("legacy key wrote version %d", ct[4])
	}
}

// ATT-11: tampered, truncated, reordered and wrong-key ciphertexts are all
// rejected; an unknown key id is told apart so that the caller can replace
// the attachment.
func TestATT11_Rejects(t *testing.T) {
	k := testKey("k1", uemapi.AES256GCM)
	kr := testRing(t, k)
	plain := pseudoRandom(4*1024+100, 1) // 5 chunks of 1 KiB
	ct := encrypt(t, plain, k, 10)
	hdr := 7 + len(k.ID) + saltLen + prefixLen
	enc := 1024 + tagLen
	swap := func(b []byte, i, j int) []byte {
		b = bytes.Clone(b)
		ci := bytes.Clone(b[hdr+i*enc : hdr+(i+1)*enc])
		copy(b[hdr+i*enc:], b[hdr+j*enc:hdr+(j+1)*enc])
		copy(b[hdr+j*enc:], ci)
		return b
	}
	flip := func(i int) []byte { b := bytes.Clone(ct); b[i] ^= 1; return b }
	other := testKey("k1", uemapi.AES256GCM)
	other.Secret[5] ^= 0xff
	cases := []struct {
		name string
		ct   []byte
		kr   *Keyring
		want error
	}{
		{"tampered body", flip(hdr + 3), kr, ErrAuth},
		{"tampered tag", flip(len(ct) - 1), kr, ErrAuth},
		{"tampered salt", flip(7 + len(k.ID)), kr, ErrAuth},
		{"tampered prefix", flip(hdr - 1), kr, ErrAuth},
		{"chunk size changed", func() []byte { b := bytes.Clone(ct); b[5] = 11; return b }(), kr, ErrAuth},
		{"truncated at a chunk boundary", ct[:hdr+2*enc], kr, ErrAuth},
		{"truncated inside a chunk", ct[:hdr+2*enc+100], kr, ErrAuth},
		{"truncated inside a tag", ct[:hdr+5], kr, ErrAuth},
		{"header only", ct[:hdr], kr, ErrAuth},
		{"last chunk dropped", ct[:hdr+4*enc], kr, ErrAuth},
		{"reordered chunks", swap(ct, 0, 1), kr, ErrAuth},
		{"appended bytes", append(bytes.Clone(ct), 0), kr, ErrAuth},
		{"wrong key, same id", ct, testRing(t, other), ErrAuth},
		{"legacy key under a 256-bit id", ct, testRing(t, Key{ID: "k1", Algorithm: uemapi.AES128ECB, Secret: make([]byte, 16)}), ErrAuth},
		{"unknown key id", ct, testRing(t, testKey("k2", uemapi.AES256GCM)), ErrUnknownKey},
		{"empty keyring", ct, &Keyring{}, ErrUnknownKey},
		{"not encrypted", []byte("hello, world, this is a plain file"), kr, ErrFormat},
		{"bad version", func() []byte { b := bytes.Clone(ct); b[4] = 9; return b }(), kr, ErrFormat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := DecryptStream(io.Discard, bytes.NewReader(c.ct), c.kr)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// ATT-11: a regenerated key is current, the old one still decrypts until it
// is retired; Replace drops every older key.
func TestATT11_KeyringRegeneration(t *testing.T) {
	old, cur := testKey("old", uemapi.AES128ECB), testKey("new", uemapi.AES256GCM)
	kr := testRing(t, old)
	ct := encrypt(t, []byte("report"), old, 16)
	if err := kr.Install(cur); err != nil {
		t.Fatal(err)
	}
	if k, _ := kr.Current(); k.ID != "new" {
		t.Fatalf("current %q", k.ID)
	}
	if err := DecryptStream(io.Discard, bytes.NewReader(ct), kr); err != nil {
		t.Fatalf("old key after Install: %v", err)
	}
	if kr.Retire("new") {
		t.Fatal("retired the current key")
	}
	if !kr.Retire("old") {
		t.Fatal("Retire(old) = false")
	}
	if err := DecryptStream(io.Discard, bytes.NewReader(ct), kr); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("after Retire: %v", err)
	}
	_ = kr.Install(old)
	_ = kr.Replace(cur)
	if _, ok := kr.Lookup("old"); ok {
		t.Fatal("Replace kept the old key")
	}
	if err := kr.Install(Key{ID: "x", Algorithm: uemapi.AES256GCM, Secret: make([]byte, 16)}); err == nil {
		t.Fatal("accepted a 16-byte secret for AES-256-GCM")
	}
}

// The keyring is read without locks while keys change.
func TestATT11_KeyringConcurrent(t *testing.T) {
	kr := testRing(t, testKey("k0", uemapi.AES256GCM))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			_ = kr.Install(testKey(string(rune('a'+i%26)), uemapi.AES256GCM))
		}
	}()
	for range 2000 {
		if k, ok := kr.Current(); !ok || k == nil {
			t.Fatal("no current key")
		}
		kr.Lookup("k0")
	}
	<-done
}
