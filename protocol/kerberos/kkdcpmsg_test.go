package kerberos

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// kkdcpMessages are real encodings (gokrb5's) of every message a KDC
// proxy deals with.
type kkdcpMessages struct {
	asReq, tgsReq, asRep, tgsRep, krbErr, apReq, apRep, krbPriv []byte
}

func buildMessages(t *testing.T) kkdcpMessages {
	t.Helper()
	var m kkdcpMessages
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	as, err := NewASReq(PrincipalFromSPN("alice"), "CORP.EXAMPLE", nil, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	m.asReq = must(as.Marshal())
	tgt := fakeTGT()
	tgs, _, err := NewTGSReq(TGSParams{TGT: tgt, Realm: "CORP.EXAMPLE", Server: PrincipalFromSPN("http/mail.corp.example"), Till: time.Now().Add(time.Hour), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	m.tgsReq = must(tgs.Marshal())
	rep := messages.KDCRepFields{PVNO: 5, MsgType: msgtype.KRB_AS_REP, CRealm: "CORP.EXAMPLE", CName: PrincipalFromSPN("alice"),
		Ticket: tgt.Ticket, EncPart: types.EncryptedData{EType: 18, Cipher: []byte{1, 2, 3}}}
	asRep := messages.ASRep{KDCRepFields: rep}
	m.asRep = must(asRep.Marshal())
	rep.MsgType = msgtype.KRB_TGS_REP
	tgsRep := messages.TGSRep{KDCRepFields: rep}
	m.tgsRep = must(tgsRep.Marshal())
	ke := messages.NewKRBError(TGSName("CORP.EXAMPLE"), "CORP.EXAMPLE", 25, "preauth required")
	m.krbErr = must(ke.Marshal())
	ap, err := messages.NewAPReq(tgt.Ticket, tgt.Key, types.Authenticator{AVNO: 5, CRealm: "CORP.EXAMPLE", CName: tgt.Client, CTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	m.apReq = must(ap.Marshal())
	aprep, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: types.EncryptedData{EType: 18, Cipher: []byte{4, 5}}})
	if err != nil {
		t.Fatal(err)
	}
	m.apRep = asn1tools.AddASNAppTag(aprep, 15)
	priv := messages.KRBPriv{PVNO: 5, MsgType: msgtype.KRB_PRIV, EncPart: types.EncryptedData{EType: 18, Cipher: []byte{6, 7}}}
	m.krbPriv = must(priv.Marshal())
	return m
}

// kpasswd frames an RFC 3244 message: length, version, AP length, AP
// message, rest.
func kpasswd(version uint16, ap, rest []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(6+len(ap)+len(rest)))
	b = binary.BigEndian.AppendUint16(b, version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ap)))
	return append(append(b, ap...), rest...)
}

func TestKKD01_ClassifyRequestAcceptsOnlyKDCAndKpasswdRequests(t *testing.T) {
	m := buildMessages(t)
	good := map[string]struct {
		msg  []byte
		want MessageKind
	}{
		"AS-REQ":                  {m.asReq, KindASReq},
		"TGS-REQ":                 {m.tgsReq, KindTGSReq},
		"KPASSWD change password": {kpasswd(KpasswdVersionChange, m.apReq, m.krbPriv), KindKpasswdReq},
		"KPASSWD set password":    {kpasswd(KpasswdVersionSet, m.apReq, m.krbPriv), KindKpasswdReq},
	}
	for name, c := range good {
		if k, err := ClassifyRequest(c.msg); err != nil || k != c.want {
			t.Errorf("%s: %v %v, want %v", name, k, err, c.want)
		}
	}
	asWrongType := append([]byte(nil), m.asReq...)
	// msg-type [2] INTEGER 10 → 12 inside an [APPLICATION 10].
	if i := bytes.Index(asWrongType, []byte{0xa2, 0x03, 0x02, 0x01, 0x0a}); i < 0 {
		t.Fatal("AS-REQ msg-type not found")
	} else {
		asWrongType[i+4] = 0x0c
	}
	bad := map[string][]byte{
		"empty":                 nil,
		"HTTP":                  []byte("GET / HTTP/1.1\r\nHost: intranet\r\n\r\n"),
		"AS-REP as a request":   m.asRep,
		"KRB-ERROR as request":  m.krbErr,
		"AP-REQ alone":          m.apReq,
		"AS-REQ trailing bytes": append(append([]byte(nil), m.asReq...), 0),
		"AS-REQ truncated":      m.asReq[:len(m.asReq)-1],
		"AS-REQ wrong msg-type": asWrongType,
		"AS-REQ without body":   mustHex(t, "6a0c300aa103020105a20302010a"),
		"KPASSWD bad version":   kpasswd(0x0002, m.apReq, m.krbPriv),
		"KPASSWD bad length":    append(kpasswd(KpasswdVersionChange, m.apReq, m.krbPriv), 0),
		"KPASSWD no KRB-PRIV":   kpasswd(KpasswdVersionChange, m.apReq, nil),
		"KPASSWD AS-REQ inside": kpasswd(KpasswdVersionChange, m.asReq, m.krbPriv),
		"KPASSWD junk payload":  kpasswd(KpasswdVersionChange, []byte("abc"), []byte("def")),
	}
	for name, b := range bad {
		k, err := ClassifyRequest(b)
		var me *MessageError
		if err == nil || !errors.As(err, &me) {
			t.Errorf("%s: classified as %v, %v", name, k, err)
		}
	}
}

func TestKKD01_CheckReplyAcceptsOnlyKerberosReplies(t *testing.T) {
	m := buildMessages(t)
	good := []struct {
		name string
		req  MessageKind
		rep  []byte
		want MessageKind
	}{
		{"AS-REP", KindASReq, m.asRep, KindASRep},
		{"KRB-ERROR to AS-REQ", KindASReq, m.krbErr, KindKRBError},
		{"TGS-REP", KindTGSReq, m.tgsRep, KindTGSRep},
		{"KRB-ERROR to TGS-REQ", KindTGSReq, m.krbErr, KindKRBError},
		{"KPASSWD reply", KindKpasswdReq, kpasswd(KpasswdVersionChange, m.apRep, m.krbPriv), KindKpasswdRep},
		{"KPASSWD error reply", KindKpasswdReq, kpasswd(KpasswdVersionChange, nil, m.krbErr), KindKpasswdRep},
		{"bare KRB-ERROR to KPASSWD", KindKpasswdReq, m.krbErr, KindKRBError},
	}
	for _, c := range good {
		if k, err := CheckReply(c.req, c.rep); err != nil || k != c.want {
			t.Errorf("%s: %v %v, want %v", c.name, k, err, c.want)
		}
	}
	bad := []struct {
		name string
		req  MessageKind
		rep  []byte
	}{
		{"empty", KindASReq, nil},
		{"HTTP answer", KindASReq, []byte("HTTP/1.1 200 OK\r\n\r\nsecret")},
		{"TGS-REP to AS-REQ", KindASReq, m.tgsRep},
		{"AS-REP to TGS-REQ", KindTGSReq, m.asRep},
		{"AS-REQ echoed", KindASReq, m.asReq},
		{"AS-REP with trailing bytes", KindASReq, append(append([]byte(nil), m.asRep...), 1, 2)},
		{"KPASSWD reply with AP-REQ", KindKpasswdReq, kpasswd(KpasswdVersionChange, m.apReq, m.krbPriv)},
		{"KPASSWD reply junk", KindKpasswdReq, kpasswd(KpasswdVersionChange, nil, []byte("junk"))},
		{"AS-REP to KPASSWD", KindKpasswdReq, m.asRep},
		{"reply to nothing", KindUnknown, m.asRep},
	}
	for _, c := range bad {
		if k, err := CheckReply(c.req, c.rep); err == nil {
			t.Errorf("%s: accepted as %v", c.name, k)
		}
	}
}

func FuzzClassifyRequest(f *testing.F) {
	f.Add(kpasswd(KpasswdVersionChange, []byte{0x6e, 0}, []byte{0x75, 0}))
	f.Add([]byte{0x6a, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ClassifyRequest(b)
		if err == nil && k == KindUnknown {
			t.Fatal("accepted without a kind")
		}
		_, _ = CheckReply(KindKpasswdReq, b)
	})
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
