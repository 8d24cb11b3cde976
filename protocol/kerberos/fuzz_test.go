package kerberos

import (
	"bytes"
	"testing"
)

func FuzzDecodeProxyMessage(f *testing.F) {
	hint := 3
	for _, m := range []ProxyMessage{
		{Message: []byte{0x6a, 0x03, 0x02, 0x01, 0x05}},
		{Message: []byte("krb"), TargetDomain: "CORP.EXAMPLE", DCLocatorHint: &hint},
	} {
		b, _ := m.Marshal()
		f.Add(b)
	}
	f.Add([]byte{0x30, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeProxyMessage(b, 4096)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same message.
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("decoded message does not re-encode: %v", err)
		}
		m2, err := DecodeProxyMessage(out, 0)
		if err != nil || !bytes.Equal(m2.Message, m.Message) || m2.TargetDomain != m.TargetDomain {
			t.Fatalf("re-encoded message differs: %v", err)
		}
	})
}

func FuzzDecodePAForUser(f *testing.F) {
	key := testKey(18, 32)
	p, _ := NewPAForUser(alice(), "CORP.EXAMPLE", key)
	b, _ := p.Marshal()
	f.Add(b)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePAForUser(b)
		if err != nil {
			return
		}
		_ = p.Verify(key)
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("decoded PA-FOR-USER does not re-encode: %v", err)
		}
		if _, err := DecodePAForUser(out); err != nil {
			t.Fatalf("re-encoded PA-FOR-USER does not decode: %v", err)
		}
	})
}
