package kerberos

import (
	"encoding/asn1"
	"encoding/binary"
	"fmt"
)

// MessageKind is what a KDC proxy may relay: the requests a client sends
// and the replies it may get back. Anything else is not relayed, so that
// the proxy cannot be used to carry arbitrary bytes to a KDC's ports.
type MessageKind int

// Message kinds (RFC 4120 5.10 application tags; RFC 3244 for KPASSWD).
const (
	KindUnknown    MessageKind = iota
	KindASReq                  // [APPLICATION 10]
	KindTGSReq                 // [APPLICATION 12]
	KindKpasswdReq             // RFC 3244 framing around AP-REQ and KRB-PRIV
	KindASRep                  // [APPLICATION 11]
	KindTGSRep                 // [APPLICATION 13]
	KindKRBError               // [APPLICATION 30]
	KindKpasswdRep             // RFC 3244 framing around AP-REP and KRB-PRIV, or KRB-ERROR
)

func (k MessageKind) String() string {
	switch k {
	case KindASReq:
		return "AS-REQ"
	case KindTGSReq:
		return "TGS-REQ"
	case KindKpasswdReq:
		return "KPASSWD-REQ"
	case KindASRep:
		return "AS-REP"
	case KindTGSRep:
		return "TGS-REP"
	case KindKRBError:
		return "KRB-ERROR"
	case KindKpasswdRep:
		return "KPASSWD-REP"
	}
	return "unknown"
}

// Kpasswd protocol versions (RFC 3244 2): change password, and the
// set-password extension MIT and Windows send.
const (
	KpasswdVersionChange = 0x0001
	KpasswdVersionSet    = 0xff80
)

// Application tags of RFC 4120 5.10.
const (
	appASReq    = 10
	appASRep    = 11
	appTGSReq   = 12
	appTGSRep   = 13
	appAPReq    = 14
	appAPRep    = 15
	appKRBPriv  = 21
	appKRBError = 30
)

// appShape is what a message's outer SEQUENCE must hold: pvno 5 and
// msg-type equal to the application tag at the given context tags, and
// the other required fields.
type appShape struct {
	name          string
	pvno, msgType int
	required      []int
}

var shapes = map[int]appShape{
	// KDC-REQ: pvno [1], msg-type [2], padata [3] OPTIONAL, req-body [4].
	appASReq:  {name: "AS-REQ", pvno: 1, msgType: 2, required: []int{4}},
	appTGSReq: {name: "TGS-REQ", pvno: 1, msgType: 2, required: []int{4}},
	// KDC-REP: pvno [0], msg-type [1], padata [2] OPTIONAL, crealm [3],
	// cname [4], ticket [5], enc-part [6].
	appASRep:  {name: "AS-REP", pvno: 0, msgType: 1, required: []int{3, 4, 5, 6}},
	appTGSRep: {name: "TGS-REP", pvno: 0, msgType: 1, required: []int{3, 4, 5, 6}},
	// AP-REQ: pvno [0], msg-type [1], ap-options [2], ticket [3], authenticator [4].
	appAPReq: {name: "AP-REQ", pvno: 0, msgType: 1, required: []int{2, 3, 4}},
	// AP-REP: pvno [0], msg-type [1], enc-part [2].
	appAPRep: {name: "AP-REP", pvno: 0, msgType: 1, required: []int{2}},
	// KRB-PRIV: pvno [0], msg-type [1], enc-part [3].
	appKRBPriv: {name: "KRB-PRIV", pvno: 0, msgType: 1, required: []int{3}},
	// KRB-ERROR: pvno [0], msg-type [1], stime [4], susec [5],
	// error-code [6], realm [9], sname [10].
	appKRBError: {name: "KRB-ERROR", pvno: 0, msgType: 1, required: []int{4, 5, 6, 9, 10}},
}

// MessageError says why a message is not one a KDC proxy relays.
type MessageError struct{ Reason string }

func (e *MessageError) Error() string { return "kerberos: " + e.Reason }

func msgErr(format string, args ...any) error {
	return &MessageError{Reason: fmt.Sprintf(format, args...)}
}

// ClassifyRequest reports what a proxied request is (the kerb-message of
// a KDC-PROXY-MESSAGE without its length prefix): an AS-REQ, a TGS-REQ or
// a KPASSWD request. Anything else is a *MessageError.
func ClassifyRequest(msg []byte) (MessageKind, error) {
	if len(msg) == 0 {
		return KindUnknown, msgErr("empty message")
	}
	switch msg[0] {
	case 0x60 | appASReq: // constructed, application class
		return KindASReq, checkApp(msg, appASReq)
	case 0x60 | appTGSReq:
		return KindTGSReq, checkApp(msg, appTGSReq)
	}
	if err := checkKpasswd(msg, appAPReq, false); err != nil {
		return KindUnknown, msgErr("neither AS-REQ, TGS-REQ nor KPASSWD (first byte 0x%02x): %v", msg[0], err)
	}
	return KindKpasswdReq, nil
}

// CheckReply checks that rep is a reply a KDC may give to a request of
// kind req: AS-REP or KRB-ERROR to an AS-REQ, TGS-REP or KRB-ERROR to a
// TGS-REQ, a KPASSWD reply (or a bare KRB-ERROR) to a KPASSWD request.
func CheckReply(req MessageKind, rep []byte) (MessageKind, error) {
	if len(rep) == 0 {
		return KindUnknown, msgErr("empty reply")
	}
	if rep[0] == 0x60|appKRBError {
		return KindKRBError, checkApp(rep, appKRBError)
	}
	switch req {
	case KindASReq:
		return KindASRep, checkApp(rep, appASRep)
	case KindTGSReq:
		return KindTGSRep, checkApp(rep, appTGSRep)
	case KindKpasswdReq:
		return KindKpasswdRep, checkKpasswd(rep, appAPRep, true)
	}
	return KindUnknown, msgErr("no reply is valid for a %s", req)
}

// checkApp checks that b is exactly one DER [APPLICATION tag] SEQUENCE
// of explicitly tagged fields in increasing tag order, with pvno 5, the
// matching msg-type and the message's required fields.
func checkApp(b []byte, tag int) error {
	shape := shapes[tag]
	var app asn1.RawValue
	rest, err := asn1.Unmarshal(b, &app)
	if err != nil {
		return msgErr("%s: malformed DER: %v", shape.name, err)
	}
	if len(rest) != 0 {
		return msgErr("%s: %d trailing bytes", shape.name, len(rest))
	}
	if app.Class != asn1.ClassApplication || app.Tag != tag || !app.IsCompound {
		return msgErr("%s: tag %d class %d, want [APPLICATION %d]", shape.name, app.Tag, app.Class, tag)
	}
	var seq asn1.RawValue
	if rest, err = asn1.Unmarshal(app.Bytes, &seq); err != nil || len(rest) != 0 {
		return msgErr("%s: body is not one DER element", shape.name)
	}
	if seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
		return msgErr("%s: body is not a SEQUENCE", shape.name)
	}
	seen := map[int]bool{}
	last := -1
	for in := seq.Bytes; len(in) > 0; {
		var f asn1.RawValue
		if in, err = asn1.Unmarshal(in, &f); err != nil {
			return msgErr("%s: malformed field after [%d]: %v", shape.name, last, err)
		}
		if f.Class != asn1.ClassContextSpecific || !f.IsCompound || f.Tag <= last {
			return msgErr("%s: field tag %d class %d out of place after [%d]", shape.name, f.Tag, f.Class, last)
		}
		last = f.Tag
		seen[f.Tag] = true
		switch f.Tag {
		case shape.pvno:
			if n, ok := explicitInt(f.Bytes); !ok || n != 5 {
				return msgErr("%s: pvno is not 5", shape.name)
			}
		case shape.msgType:
			if n, ok := explicitInt(f.Bytes); !ok || n != tag {
				return msgErr("%s: msg-type is not %d", shape.name, tag)
			}
		}
	}
	for _, t := range append([]int{shape.pvno, shape.msgType}, shape.required...) {
		if !seen[t] {
			return msgErr("%s: field [%d] is missing", shape.name, t)
		}
	}
	return nil
}

func explicitInt(b []byte) (int, bool) {
	var n int
	rest, err := asn1.Unmarshal(b, &n)
	return n, err == nil && len(rest) == 0
}

// checkKpasswd checks RFC 3244 framing: a 2-byte length of the whole
// message, a 2-byte version, a 2-byte length of the AP message (apTag:
// AP-REQ in requests, AP-REP in replies), the AP message, then a
// KRB-PRIV. A reply whose AP-REP length is 0 carries a KRB-ERROR instead.
func checkKpasswd(b []byte, apTag int, reply bool) error {
	if len(b) < 6 {
		return msgErr("KPASSWD: %d bytes is shorter than its header", len(b))
	}
	if n := int(binary.BigEndian.Uint16(b)); n != len(b) {
		return msgErr("KPASSWD: length field %d, but the message has %d bytes", n, len(b))
	}
	if v := binary.BigEndian.Uint16(b[2:]); v != KpasswdVersionChange && v != KpasswdVersionSet {
		return msgErr("KPASSWD: version 0x%04x is neither 0x0001 nor 0xff80", v)
	}
	apLen := int(binary.BigEndian.Uint16(b[4:]))
	body := b[6:]
	if apLen == 0 {
		if !reply {
			return msgErr("KPASSWD: request without an AP-REQ")
		}
		return checkApp(body, appKRBError)
	}
	if apLen >= len(body) {
		return msgErr("KPASSWD: AP message length %d leaves no KRB-PRIV in %d bytes", apLen, len(body))
	}
	if err := checkApp(body[:apLen], apTag); err != nil {
		return err
	}
	return checkApp(body[apLen:], appKRBPriv)
}
