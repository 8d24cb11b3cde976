package devicecache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// encodeKey writes the three key fields length-prefixed, ActiveSync
// entries first (their App is empty).
func encodeKey(k Key) []byte { return appendKey(nil, k) }

func appendKey(b []byte, k Key) []byte {
	for _, f := range [3]string{k.App, k.DeviceID, k.User} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// keyMatches reports whether enc is appendKey's encoding of k, without
// building that encoding: the lookup path compares in place.
func keyMatches(enc string, k Key) bool {
	for _, f := range [3]string{k.App, k.DeviceID, k.User} {
		n := len(f)
		for ; n >= 0x80; n >>= 7 {
			if len(enc) == 0 || enc[0] != byte(n)|0x80 {
				return false
			}
			enc = enc[1:]
		}
		if len(enc) <= len(f) || enc[0] != byte(n) || enc[1:1+len(f)] != f {
			return false
		}
		enc = enc[1+len(f):]
	}
	return len(enc) == 0
}

var errCorrupt = errors.New("corrupt record")

func readString(b []byte) (string, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return "", nil, errCorrupt
	}
	return string(b[w : w+int(n)]), b[w+int(n):], nil
}

// decodeKeyString decodes a key held as a string, sharing its bytes.
func decodeKeyString(s string) (Key, error) {
	var k Key
	for _, f := range []*string{&k.App, &k.DeviceID, &k.User} {
		var n uint64
		var shift uint
		i := 0
		for ; ; i++ {
			if i >= len(s) || i > 9 {
				return k, fmt.Errorf("key: %w", errCorrupt)
			}
			n |= uint64(s[i]&0x7F) << shift
			shift += 7
			if s[i] < 0x80 {
				break
			}
		}
		s = s[i+1:]
		if n > uint64(len(s)) {
			return k, fmt.Errorf("key: %w", errCorrupt)
		}
		*f, s = s[:n], s[n:]
	}
	if len(s) != 0 {
		return k, fmt.Errorf("key: %w", errCorrupt)
	}
	return k, nil
}

func decodeKey(b []byte) (Key, error) {
	var k Key
	var err error
	for _, f := range []*string{&k.App, &k.DeviceID, &k.User} {
		if *f, b, err = readString(b); err != nil {
			return k, fmt.Errorf("key: %w", err)
		}
	}
	if len(b) != 0 {
		return k, fmt.Errorf("key: %w", errCorrupt)
	}
	return k, nil
}

// Record flags. A flag added later reads as unset in older files, so it
// needs no new recordFormat.
const (
	flagWiped       = 1 << 0
	flagValidated   = 1 << 1
	flagReprovision = 1 << 2
)

func encodeRecord(e Entry) []byte { return appendRecord(nil, e) }

func appendRecord(b []byte, e Entry) []byte {
	var flags byte
	if e.Wiped {
		flags |= flagWiped
	}
	if e.Validated {
		flags |= flagValidated
	}
	if e.Reprovision {
		flags |= flagReprovision
	}
	b = append(b, recordFormat, byte(e.State), flags)
	b = binary.AppendUvarint(b, uint64(e.Connections))
	var seen int64
	if !e.LastSeen.IsZero() {
		seen = e.LastSeen.UnixNano()
	}
	b = binary.AppendVarint(b, seen)
	for _, f := range [4]string{e.ProtocolVersion, e.Policy, e.PolicyVersion, e.RedirectURL} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func decodeRecord(k Key, b []byte) (Entry, error) { return decodeRecordOpt(k, b, readString) }

// decodeRecordShared decodes a record whose strings share b's memory: for
// a caller that copies what it keeps before b is reused.
func decodeRecordShared(b []byte) (Entry, error) {
	return decodeRecordOpt(Key{}, b, func(b []byte) (string, []byte, error) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return "", nil, errCorrupt
		}
		return unsafe.String(unsafe.SliceData(b[w:]), int(n)), b[w+int(n):], nil
	})
}

func decodeRecordOpt(k Key, b []byte, readString func([]byte) (string, []byte, error)) (Entry, error) {
	e := Entry{Key: k}
	if len(b) < 3 || b[0] != recordFormat {
		return e, fmt.Errorf("%w: unknown format", errCorrupt)
	}
	e.State = State(b[1])
	if !e.State.Valid() {
		return e, fmt.Errorf("%w: state %q", errCorrupt, b[1])
	}
	e.Wiped, e.Validated, e.Reprovision = b[2]&flagWiped != 0, b[2]&flagValidated != 0, b[2]&flagReprovision != 0
	b = b[3:]
	conns, w := binary.Uvarint(b)
	if w <= 0 || conns > 1<<32-1 {
		return e, errCorrupt
	}
	e.Connections, b = uint32(conns), b[w:]
	seen, w := binary.Varint(b)
	if w <= 0 {
		return e, errCorrupt
	}
	if b = b[w:]; seen != 0 {
		e.LastSeen = time.Unix(0, seen).UTC()
	}
	var err error
	for _, f := range []*string{&e.ProtocolVersion, &e.Policy, &e.PolicyVersion, &e.RedirectURL} {
		if *f, b, err = readString(b); err != nil {
			return e, err
		}
	}
	if len(b) != 0 {
		return e, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(b))
	}
	return e, nil
}

// appendStored appends one stored record as Save writes it: the encoded
// key and the encoded record, each length-prefixed. It reads the record
// in place (no Entry, no time.Time): the flag bits are the stored ones.
func appendStored(buf []byte, r *record) []byte {
	k := r.key()
	buf = binary.AppendUvarint(buf, uint64(len(k)))
	buf = append(buf, k...)
	n := len(buf)
	buf = append(buf, 0) // length placeholder, patched below when short
	buf = append(buf, recordFormat, byte(r.state), r.flags&(flagWiped|flagValidated|flagReprovision))
	buf = binary.AppendUvarint(buf, uint64(r.connections))
	buf = binary.AppendVarint(buf, r.lastSeen)
	p := r.prof()
	for _, f := range [4]string{p.version, p.policy, p.policyVer, p.redirect} {
		buf = binary.AppendUvarint(buf, uint64(len(f)))
		buf = append(buf, f...)
	}
	recLen := len(buf) - n - 1
	if recLen < 0x80 {
		buf[n] = byte(recLen)
		return buf
	}
	// Rare (long redirect URLs): re-encode with a wider length.
	rec := append([]byte(nil), buf[n+1:]...)
	buf = binary.AppendUvarint(buf[:n], uint64(recLen))
	return append(buf, rec...)
}

// eachStored calls fn with the encoded key and record of every stored
// record of chunk (appendStored's output, back to back) and returns how
// many it saw.
func eachStored(chunk []byte, fn func(kb, rec []byte) error) (int, error) {
	n := 0
	for len(chunk) > 0 {
		kl, w := binary.Uvarint(chunk)
		if w <= 0 || kl > uint64(len(chunk)-w) {
			return n, fmt.Errorf("key length: %w", errCorrupt)
		}
		kb := chunk[w : w+int(kl)]
		chunk = chunk[w+int(kl):]
		rl, w := binary.Uvarint(chunk)
		if w <= 0 || rl > uint64(len(chunk)-w) {
			return n, fmt.Errorf("record length: %w", errCorrupt)
		}
		rec := chunk[w : w+int(rl)]
		chunk = chunk[w+int(rl):]
		if err := fn(kb, rec); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// decodeStored decodes one stored record without copying: the key and
// the entry's strings share kb's and rec's memory.
func decodeStored(kb, rec []byte) (Key, string, Entry, error) {
	key := unsafe.String(unsafe.SliceData(kb), len(kb))
	k, err := decodeKeyString(key)
	if err != nil {
		return k, key, Entry{}, err
	}
	e, err := decodeRecordShared(rec)
	if err != nil {
		return k, key, e, fmt.Errorf("entry %q: %w", k.DeviceID, err)
	}
	return k, key, e, nil
}

// validStored checks a chunk without keeping anything: Load checks the
// whole list before it adds the first entry, so a corrupt list is refused
// whole instead of half loaded.
func validStored(chunk []byte) (int, error) {
	return eachStored(chunk, func(kb, rec []byte) error {
		_, _, _, err := decodeStored(kb, rec)
		return err
	})
}
