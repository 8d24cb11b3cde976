package kerberos

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestKKD01_ProxyMessageRoundTrip(t *testing.T) {
	hint := 0
	for _, m := range []ProxyMessage{
		{Message: []byte{0x6a, 0x01, 0x00}},
		{Message: []byte{0x6c, 0x02, 0x05, 0x00}, TargetDomain: "CORP.EXAMPLE"},
		{Message: []byte("x"), TargetDomain: "CORP.EXAMPLE", DCLocatorHint: &hint},
	} {
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeProxyMessage(b, 0)
		if err != nil {
			t.Fatalf("decode %x: %v", b, err)
		}
		if !bytes.Equal(got.Message, m.Message) || got.TargetDomain != m.TargetDomain || (got.DCLocatorHint == nil) != (m.DCLocatorHint == nil) {
			t.Fatalf("round trip %+v -> %+v", m, got)
		}
	}
}

// The exact DER MS-KKDCP 2.2.2 describes: SEQUENCE { [0] OCTET STRING
// (length-prefixed message), [1] GeneralString realm }.
func TestKKD01_ProxyMessageGoldenBytes(t *testing.T) {
	m := ProxyMessage{Message: []byte{0xaa, 0xbb}, TargetDomain: "A.B"}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "3011" + "a008" + "0406" + "00000002aabb" + "a1" + "05" + "1b03" + hex.EncodeToString([]byte("A.B"))
	if hex.EncodeToString(b) != want {
		t.Fatalf("got  %x\nwant %s", b, want)
	}
}

func TestKKD01_ProxyMessageRejects(t *testing.T) {
	good, _ := ProxyMessage{Message: []byte{1, 2, 3}, TargetDomain: "R"}.Marshal()
	mustHex := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	cases := map[string][]byte{
		"empty":             nil,
		"trailing":          append(append([]byte(nil), good...), 0),
		"length too long":   mustHex("300aa0080406000000050102"),
		"length too short":  mustHex("300aa0080406000000010102"),
		"no length":         mustHex("3006a0040402aabb"),
		"empty message":     mustHex("3008a006040400000000"),
		"realm not GString": mustHex("300fa0070405000000010ba1040c025252"),
		"oversize":          make([]byte, MaxProxyMessageSize+1),
	}
	for name, in := range cases {
		_, err := DecodeProxyMessage(in, 0)
		if err == nil {
			t.Errorf("%s: decoded without error", name)
		} else if !IsProxyError(err) {
			t.Errorf("%s: error %v is not a ProxyError", name, err)
		}
	}
	if _, err := DecodeProxyMessage(good, len(good)-1); err == nil {
		t.Error("limit below the message size accepted")
	}
}

func TestFrameTCP(t *testing.T) {
	f := FrameTCP([]byte("abc"))
	got, err := ReadFrame(bytes.NewReader(f), 3)
	if err != nil || string(got) != "abc" {
		t.Fatalf("ReadFrame = %q, %v", got, err)
	}
	if _, err := ReadFrame(bytes.NewReader(f), 2); err == nil {
		t.Fatal("frame above max accepted")
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0x80, 0, 0, 1, 0}), 10); err == nil {
		t.Fatal("reserved high bit accepted")
	}
}
