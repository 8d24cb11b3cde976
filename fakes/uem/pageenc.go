package uem

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// writeDevicePage serves a page of the device list from a pooled buffer.
func (s *Server) writeDevicePage(w http.ResponseWriter, filter uemapi.DeviceFilter, cursor string, limit int) {
	bp := s.pageBufs.Get().(*[]byte)
	b, err := s.st.appendDevicePage((*bp)[:0], filter, cursor, limit)
	if err != nil {
		s.pageBufs.Put(bp)
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	if cap(b) <= 16<<20 {
		*bp = b
		s.pageBufs.Put(bp)
	}
}

// appendDeviceEntry appends one uemapi.DeviceEntry as JSON, written by hand
// because reflection dominated the cost of the million-entry list.
func appendDeviceEntry(b []byte, a *assoc, behavior uemapi.PolicyBehavior, policyID string) []byte {
	b = append(b, `{"association_id":"a`...)
	b = strconv.AppendInt(b, a.seq, 10)
	b = append(b, `","eas_device_id":`...)
	b = appendString(b, a.eas)
	b = append(b, `,"user":`...)
	b = appendString(b, a.userName)
	b = append(b, `,"state":`...)
	b = appendString(b, string(a.State()))
	b = append(b, `,"policy_behavior":`...)
	b = appendString(b, string(behavior))
	if policyID != "" {
		b = append(b, `,"policy_id":`...)
		b = appendString(b, policyID)
	}
	b = append(b, `,"registered":`...)
	b = strconv.AppendBool(b, a.device != nil)
	if r := a.ro().redirect; r != "" {
		b = append(b, `,"redirect_url":`...)
		b = appendString(b, r)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping like encoding/json
// (including <, > and & and invalid UTF-8).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case utf8.RuneError:
				b = append(b, `\ufffd`...)
			case '\u2028':
				b = append(b, `\u2028`...)
			default:
				b = append(b, `\u2029`...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
