package attachments

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The encrypted attachment format is specified in docs/attachment-format.md.
// In short:
//
//	magic "GHAC" | version | log2(chunk size) | key id length | key id |
//	salt (32) | nonce prefix (7) | chunk 0 | chunk 1 | ... | last chunk
//
// Each chunk is AES-GCM (key = HKDF-SHA256(secret, salt, info), 16- or
// 32-byte) over up to chunkSize plaintext bytes with nonce prefix ||
// uint32 big-endian counter || last flag and the whole header as
// additional data (the STREAM construction): chunks cannot be reordered,
// dropped, truncated at a boundary or moved to another file.

// Format constants.
const (
	Magic = "GHAC"

	// VersionAES256GCM is the version byte of files under a 256-bit key.
	VersionAES256GCM byte = 1
	// VersionAES128GCM is the version byte of files under a legacy 128-bit
	// ("AES-128-ECB" in the UEM) key.
	VersionAES128GCM byte = 2

	// DefaultChunkLog2 is the chunk size new files use: 64 KiB.
	DefaultChunkLog2 = 16
	minChunkLog2     = 10 // 1 KiB
	maxChunkLog2     = 20 // 1 MiB: the most a reader ever buffers

	saltLen   = 32
	prefixLen = 7
	tagLen    = 16
	maxKeyID  = 255
	kdfInfo   = "gatehouse attachment v1"
)

// Errors DecryptStream and NewDecryptReader return. Every failure to
// authenticate is ErrAuth, whatever its cause (tampering, reordering,
// truncation, a wrong key that shares the id), so an attacker learns nothing
// from the error.
var (
	ErrFormat     = errors.New("attachments: not an encrypted attachment")
	ErrUnknownKey = errors.New("attachments: attachment encrypted with a key that is not available")
	ErrAuth       = errors.New("attachments: encrypted attachment failed authentication")
)

// KeyIDError is an ErrUnknownKey naming the key id the file asks for.
type KeyIDError struct{ ID string }

func (e *KeyIDError) Error() string { return fmt.Sprintf("%v (key id %q)", ErrUnknownKey, e.ID) }

// Unwrap makes errors.Is(err, ErrUnknownKey) true.
func (e *KeyIDError) Unwrap() error { return ErrUnknownKey }

// Header is the plaintext header of an encrypted attachment.
type Header struct {
	Version   byte
	ChunkLog2 uint8
	KeyID     string
	Salt      [saltLen]byte
	Prefix    [prefixLen]byte
}

func versionFor(a uemapi.KeyAlgorithm) byte {
	if a == uemapi.AES128ECB {
		return VersionAES128GCM
	}
	return VersionAES256GCM
}

func (h *Header) marshal() []byte {
	b := make([]byte, 0, 7+len(h.KeyID)+saltLen+prefixLen)
	b = append(b, Magic...)
	b = append(b, h.Version, h.ChunkLog2, byte(len(h.KeyID)))
	b = append(b, h.KeyID...)
	b = append(b, h.Salt[:]...)
	return append(b, h.Prefix[:]...)
}

// ReadHeader reads and checks the header of an encrypted attachment. It
// returns the header and its bytes (the additional data of every chunk).
func ReadHeader(r io.Reader) (*Header, []byte, error) {
	var fixed [7]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: short header", ErrFormat)
	}
	if string(fixed[:4]) != Magic {
		return nil, nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	h := &Header{Version: fixed[4], ChunkLog2: fixed[5]}
	if h.Version != VersionAES256GCM && h.Version != VersionAES128GCM {
		return nil, nil, fmt.Errorf("%w: unknown version %d", ErrFormat, h.Version)
	}
	if h.ChunkLog2 < minChunkLog2 || h.ChunkLog2 > maxChunkLog2 {
		return nil, nil, fmt.Errorf("%w: chunk size 2^%d out of range", ErrFormat, h.ChunkLog2)
	}
	idLen := int(fixed[6])
	if idLen == 0 {
		return nil, nil, fmt.Errorf("%w: empty key id", ErrFormat)
	}
	rest := make([]byte, idLen+saltLen+prefixLen)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, nil, fmt.Errorf("%w: short header", ErrFormat)
	}
	h.KeyID = string(rest[:idLen])
	copy(h.Salt[:], rest[idLen:])
	copy(h.Prefix[:], rest[idLen+saltLen:])
	return h, append(fixed[:], rest...), nil
}

// fileAEAD derives the per-file key and returns its AEAD.
func fileAEAD(k *Key, h *Header) (cipher.AEAD, error) {
	n, err := secretLen(k.Algorithm)
	if err != nil {
		return nil, err
	}
	if versionFor(k.Algorithm) != h.Version {
		return nil, ErrAuth // key of the wrong kind for this file
	}
	sub, err := hkdf.Key(sha256.New, k.Secret, h.Salt[:], kdfInfo, n)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func chunkNonce(nonce *[12]byte, prefix *[prefixLen]byte, ctr uint32, last bool) {
	copy(nonce[:prefixLen], prefix[:])
	binary.BigEndian.PutUint32(nonce[prefixLen:], ctr)
	nonce[11] = 0
	if last {
		nonce[11] = 1
	}
}

// buffers are pooled so that a stream allocates the same small amount
// whatever its size. Each holds one ciphertext chunk of the largest size
// plus the look-ahead byte.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, (1<<DefaultChunkLog2)+tagLen+1)
	return &b
}}

func getBuf(size int) *[]byte {
	bp := bufPool.Get().(*[]byte)
	if cap(*bp) < size {
		b := make([]byte, size)
		return &b
	}
	*bp = (*bp)[:size]
	return bp
}

func putBuf(bp *[]byte) {
	if cap(*bp) == (1<<DefaultChunkLog2)+tagLen+1 {
		bufPool.Put(bp)
	}
}

// EncryptStream encrypts src to dst under key with 64 KiB chunks. Memory
// use is one chunk whatever the size of src.
func EncryptStream(dst io.Writer, src io.Reader, key *Key) error {
	_, err := encryptStream(dst, src, key, DefaultChunkLog2)
	return err
}

// encryptStream returns the plaintext length.
func encryptStream(dst io.Writer, src io.Reader, key *Key, chunkLog2 uint8) (int64, error) {
	if key == nil {
		return 0, ErrNoKey
	}
	if err := key.Validate(); err != nil {
		return 0, err
	}
	if chunkLog2 < minChunkLog2 || chunkLog2 > maxChunkLog2 {
		return 0, fmt.Errorf("attachments: chunk size 2^%d out of range", chunkLog2)
	}
	h := &Header{Version: versionFor(key.Algorithm), ChunkLog2: chunkLog2, KeyID: key.ID}
	if _, err := rand.Read(h.Salt[:]); err != nil {
		return 0, err
	}
	if _, err := rand.Read(h.Prefix[:]); err != nil {
		return 0, err
	}
	aead, err := fileAEAD(key, h)
	if err != nil {
		return 0, err
	}
	aad := h.marshal()
	if _, err := dst.Write(aad); err != nil {
		return 0, err
	}
	chunk := 1 << chunkLog2
	bp := getBuf(chunk + tagLen + 1)
	defer putBuf(bp)
	buf := *bp
	var (
		nonce [12]byte
		ctr   uint32
		have  int // plaintext bytes in buf, including a carried look-ahead byte
		total int64
	)
	for {
		// Read one byte beyond the chunk to know whether this chunk is last.
		n, rerr := io.ReadFull(src, buf[have:chunk+1])
		have += n
		switch rerr {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
		default:
			return total, rerr
		}
		last := have <= chunk
		size := min(have, chunk)
		var carry byte
		if !last {
			carry = buf[chunk]
		}
		chunkNonce(&nonce, &h.Prefix, ctr, last)
		out := aead.Seal(buf[:0], nonce[:], buf[:size], aad)
		if _, err := dst.Write(out); err != nil {
			return total, err
		}
		total += int64(size)
		if last {
			return total, nil
		}
		if ctr == ^uint32(0) {
			return total, errors.New("attachments: attachment too large for the chunk counter")
		}
		ctr++
		buf[0] = carry
		have = 1
	}
}

// DecryptStream decrypts src, an encrypted attachment, to dst with the key
// the file names, looked up in keys. Chunks are written to dst only after
// they authenticated, but a stream can still fail after some chunks were
// written (tampering or truncation further on): callers must discard dst's
// content when DecryptStream returns an error.
func DecryptStream(dst io.Writer, src io.Reader, keys *Keyring) error {
	r, err := NewDecryptReader(src, keys)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(dst, r)
	return err
}

// DecryptReader is the plaintext of an encrypted attachment. Read returns
// only authenticated bytes and ErrAuth at the first chunk that fails; the
// end of the stream (io.EOF) is reported only after the chunk flagged last
// authenticated, so truncation is always detected.
type DecryptReader struct {
	src    io.Reader
	Header *Header
	aead   cipher.AEAD
	aad    []byte
	chunk  int
	bp     *[]byte
	have   int    // ciphertext bytes in buf
	plain  []byte // authenticated bytes not yet returned
	ctr    uint32
	done   bool
	err    error
}

// NewDecryptReader reads the header from src and looks its key up in keys.
// It fails with ErrFormat when src is not an encrypted attachment and with
// a *KeyIDError (errors.Is ErrUnknownKey) when the key is not in keys.
func NewDecryptReader(src io.Reader, keys *Keyring) (*DecryptReader, error) {
	h, aad, err := ReadHeader(src)
	if err != nil {
		return nil, err
	}
	k, ok := keys.Lookup(h.KeyID)
	if !ok {
		return nil, &KeyIDError{ID: h.KeyID}
	}
	aead, err := fileAEAD(k, h)
	if err != nil {
		return nil, err
	}
	chunk := 1 << h.ChunkLog2
	return &DecryptReader{src: src, Header: h, aead: aead, aad: aad, chunk: chunk, bp: getBuf(chunk + tagLen + 1)}, nil
}

// Read implements io.Reader.
func (d *DecryptReader) Read(p []byte) (int, error) {
	for len(d.plain) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.done {
			return 0, io.EOF
		}
		d.err = d.next()
	}
	n := copy(p, d.plain)
	d.plain = d.plain[n:]
	return n, nil
}

// next authenticates the next chunk into d.plain.
func (d *DecryptReader) next() error {
	if d.bp == nil {
		return errors.New("attachments: read after Close")
	}
	buf := *d.bp
	enc := d.chunk + tagLen
	if d.have == enc+1 { // the look-ahead byte of the previous chunk
		buf[0] = buf[enc]
		d.have = 1
	}
	n, err := io.ReadFull(d.src, buf[d.have:enc+1])
	d.have += n
	switch err {
	case nil, io.EOF, io.ErrUnexpectedEOF:
	default:
		return err
	}
	last := d.have <= enc
	size := min(d.have, enc)
	if size < tagLen {
		return ErrAuth // truncated inside a tag
	}
	var nonce [12]byte
	chunkNonce(&nonce, &d.Header.Prefix, d.ctr, last)
	plain, oerr := d.aead.Open(buf[:0], nonce[:], buf[:size], d.aad)
	if oerr != nil {
		return ErrAuth
	}
	d.plain = plain
	if last {
		d.done = true
		return nil
	}
	if d.ctr == ^uint32(0) {
		return ErrAuth
	}
	d.ctr++
	return nil
}

// Close returns the reader's buffer to the pool. It does not close src.
func (d *DecryptReader) Close() error {
	if d.bp != nil {
		putBuf(d.bp)
		d.bp = nil
		d.plain = nil
	}
	return nil
}

// EncryptedSize is the exact length of the encryption of plain bytes under
// key (64 KiB chunks): what a handler announces as Content-Length or an
// attachment's EstimatedDataSize.
func EncryptedSize(plain int64, key *Key) int64 {
	chunk := int64(1) << DefaultChunkLog2
	chunks := (plain + chunk - 1) / chunk
	if chunks == 0 {
		chunks = 1
	}
	return int64(7+len(key.ID)+saltLen+prefixLen) + plain + tagLen*chunks
}
