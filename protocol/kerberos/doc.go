// Package kerberos holds the Kerberos messages gokrb5 v8 lacks: S4U2Self
// (PA-FOR-USER, MS-SFU 2.2.1), S4U2Proxy (constrained delegation, MS-SFU
// 3.2.5.2) and the KKDCP proxy message (MS-KKDCP 2.2.2), plus the client
// logic that chains them into a service ticket and an SPNEGO header.
//
// It is layer 0: pure codecs and request logic. Bytes reach a KDC through the
// Transport interface, which callers implement (gateway/kerberos/discovery, tests).
package kerberos
