package kerberos

import (
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxProxyMessageSize is the default bound on an encoded KDC-PROXY-MESSAGE.
const MaxProxyMessageSize = 128 << 10

// ProxyMessage is MS-KKDCP's KDC-PROXY-MESSAGE. Message is the Kerberos
// message itself; the 4-byte length MS-KKDCP puts in kerb-message is added
// by Marshal and checked and removed by DecodeProxyMessage.
type ProxyMessage struct {
	Message       []byte
	TargetDomain  string // realm, empty when absent (always absent in replies)
	DCLocatorHint *int   // absent when nil
}

type kdcProxyMessage struct {
	KerbMessage   []byte        `asn1:"explicit,tag:0"`
	TargetDomain  asn1.RawValue `asn1:"explicit,optional,tag:1"`
	DCLocatorHint asn1.RawValue `asn1:"explicit,optional,tag:2"`
}

// ProxyError is returned for a malformed or oversize KDC-PROXY-MESSAGE.
type ProxyError struct{ Reason string }

func (e *ProxyError) Error() string { return "kerberos: KDC-PROXY-MESSAGE: " + e.Reason }

// Marshal encodes the message (DER, explicit tags).
func (m ProxyMessage) Marshal() ([]byte, error) {
	if len(m.Message) == 0 {
		return nil, &ProxyError{"empty kerb-message"}
	}
	v := kdcProxyMessage{KerbMessage: FrameTCP(m.Message)}
	if m.TargetDomain != "" {
		inner, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagGeneralString, Bytes: []byte(m.TargetDomain)})
		if err != nil {
			return nil, fmt.Errorf("kerberos: marshal target-domain: %w", err)
		}
		v.TargetDomain = explicitTag(1, inner)
	}
	if m.DCLocatorHint != nil {
		b, err := asn1.Marshal(*m.DCLocatorHint)
		if err != nil {
			return nil, fmt.Errorf("kerberos: marshal dclocator-hint: %w", err)
		}
		v.DCLocatorHint = explicitTag(2, b)
	}
	b, err := asn1.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("kerberos: marshal KDC-PROXY-MESSAGE: %w", err)
	}
	return b, nil
}

// DecodeProxyMessage parses a KDC-PROXY-MESSAGE of at most max bytes
// (MaxProxyMessageSize when max <= 0). The kerb-message length prefix must
// match the bytes that follow it exactly.
func DecodeProxyMessage(b []byte, max int) (ProxyMessage, error) {
	if max <= 0 {
		max = MaxProxyMessageSize
	}
	if len(b) > max {
		return ProxyMessage{}, &ProxyError{fmt.Sprintf("%d bytes exceeds the limit of %d", len(b), max)}
	}
	var v kdcProxyMessage
	rest, err := asn1.Unmarshal(b, &v)
	if err != nil {
		return ProxyMessage{}, &ProxyError{"malformed DER: " + err.Error()}
	}
	if len(rest) != 0 {
		return ProxyMessage{}, &ProxyError{fmt.Sprintf("%d trailing bytes", len(rest))}
	}
	km := v.KerbMessage
	if len(km) < 4 {
		return ProxyMessage{}, &ProxyError{"kerb-message shorter than its 4-byte length"}
	}
	n := binary.BigEndian.Uint32(km)
	if uint64(n) != uint64(len(km)-4) {
		return ProxyMessage{}, &ProxyError{fmt.Sprintf("kerb-message length prefix %d, but %d bytes follow", n, len(km)-4)}
	}
	if n == 0 {
		return ProxyMessage{}, &ProxyError{"empty kerb-message"}
	}
	m := ProxyMessage{Message: km[4:]}
	if len(v.TargetDomain.FullBytes) != 0 {
		var td asn1.RawValue
		if r, err := asn1.Unmarshal(v.TargetDomain.Bytes, &td); err != nil || len(r) != 0 {
			return ProxyMessage{}, &ProxyError{"target-domain is not one DER element"}
		}
		if td.Class != asn1.ClassUniversal || td.Tag != asn1.TagGeneralString || td.IsCompound {
			return ProxyMessage{}, &ProxyError{fmt.Sprintf("target-domain is tag %d class %d, want GeneralString", td.Tag, td.Class)}
		}
		if len(td.Bytes) == 0 || !utf8.Valid(td.Bytes) {
			return ProxyMessage{}, &ProxyError{"target-domain is empty or not UTF-8"}
		}
		m.TargetDomain = string(td.Bytes)
	}
	if len(v.DCLocatorHint.FullBytes) != 0 {
		var h int
		r, err := asn1.Unmarshal(v.DCLocatorHint.Bytes, &h)
		if err != nil || len(r) != 0 {
			return ProxyMessage{}, &ProxyError{"dclocator-hint is not an INTEGER"}
		}
		m.DCLocatorHint = &h
	}
	return m, nil
}

// explicitTag wraps DER bytes in a constructed context tag: encoding/asn1
// writes a RawValue as is, ignoring the field's explicit tag.
func explicitTag(tag int, inner []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: inner}
}

// IsProxyError reports whether err is a KDC-PROXY-MESSAGE format error.
func IsProxyError(err error) bool {
	var pe *ProxyError
	return errors.As(err, &pe)
}
