package kdc

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/jcmturner/gokrb5/v8/keytab"
)

// Keytab exports the keys of the named principals (all of them, every etype)
// as a keytab, e.g. for the gateway's "Use Keytab File" (KRB-03) or MIT's
// kinit -k. Write it with (*keytab.Keytab).Marshal.
func (s *Server) Keytab(names ...string) (*keytab.Keytab, error) {
	b, err := s.KeytabBytes(names...)
	if err != nil {
		return nil, err
	}
	kt := keytab.New()
	if err := kt.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("kdc: keytab: %w", err)
	}
	return kt, nil
}

// KeytabBytes is Keytab in the MIT file format (version 0x502).
func (s *Server) KeytabBytes(names ...string) ([]byte, error) {
	out := []byte{5, 2}
	ts := uint32(s.cfg.Now().Unix())
	for _, n := range names {
		e, ok := s.lookup(n)
		if !ok {
			return nil, fmt.Errorf("kdc: keytab: no principal %q in %s", n, s.cfg.Realm)
		}
		ets := make([]int32, 0, len(e.keys))
		for et := range e.keys {
			ets = append(ets, et)
		}
		slices.Sort(ets)
		for _, et := range ets {
			k := e.keys[et]
			rec := binary.BigEndian.AppendUint16(nil, uint16(len(e.name.NameString)))
			rec = appendCounted(rec, s.cfg.Realm)
			for _, c := range e.name.NameString {
				rec = appendCounted(rec, c)
			}
			rec = binary.BigEndian.AppendUint32(rec, uint32(e.name.NameType))
			rec = binary.BigEndian.AppendUint32(rec, ts)
			rec = append(rec, byte(e.KVNO))
			rec = binary.BigEndian.AppendUint16(rec, uint16(et))
			rec = appendCounted(rec, string(k.KeyValue))
			rec = binary.BigEndian.AppendUint32(rec, uint32(e.KVNO))
			out = binary.BigEndian.AppendUint32(out, uint32(len(rec)))
			out = append(out, rec...)
		}
	}
	return out, nil
}

func appendCounted(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}
