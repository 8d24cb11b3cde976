package kerberos

import (
	"encoding/binary"
	"fmt"
	"io"
)

// MaxMessageSize bounds a Kerberos message read from a TCP stream.
const MaxMessageSize = 1 << 20

// FrameTCP prefixes msg with its 4-byte big-endian length (RFC 4120 7.2.2).
func FrameTCP(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg))), msg...)
}

// ReadFrame reads one length-prefixed message of at most max bytes.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("kerberos: read frame length: %w", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n&0x80000000 != 0 {
		return nil, fmt.Errorf("kerberos: frame length 0x%08x has the reserved high bit set", n)
	}
	if int64(n) > int64(max) {
		return nil, fmt.Errorf("kerberos: frame of %d bytes exceeds %d", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("kerberos: read frame body: %w", err)
	}
	return b, nil
}
