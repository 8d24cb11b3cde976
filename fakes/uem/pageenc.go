package uem

import (
	"encoding/json"
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

// appendDevicePage appends one page of the device list as JSON (the
// encoding of uemapi.DevicePage) to b, straight from the store: the list
// moves a million records in capacity tests. The cursor is the last
// sequence number scanned, opaque to clients.
func (s *store) appendDevicePage(b []byte, filter uemapi.DeviceFilter, cursor string, limit int) ([]byte, error) {
	if filter == "" {
		filter = uemapi.FilterAllowed
	}
	if filter != uemapi.FilterAllowed && filter != uemapi.FilterAll {
		return b, uemapi.FieldError("filter", "must be allowed or all")
	}
	from, err := parseCursor(cursor)
	if err != nil {
		return b, err
	}
	if limit == 0 {
		limit = uemapi.DefaultPageSize
	}
	if limit < 1 || limit > uemapi.MaxPageSize {
		return b, uemapi.FieldError("limit", "must be 1-%d", uemapi.MaxPageSize)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	policies := map[string]*uemapi.ActiveSyncPolicy{}
	b = append(b, `{"items":[`...)
	n := 0
	i := from
	for ; i < int64(len(s.assocs)) && n < limit; i++ {
		a := s.assocs[i]
		if a == nil || filter == uemapi.FilterAllowed && (a.State() != uemapi.StateAllowed || a.device == nil) {
			continue
		}
		behavior, p := s.policyFor(a)
		policyID := ""
		if p != nil {
			policyID = p.ID
			policies[p.ID] = p
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendDeviceEntry(b, a, behavior, policyID)
		n++
	}
	b = append(b, `],"policies":`...)
	pol, err := json.Marshal(policies)
	if err != nil {
		return b, err
	}
	b = append(b, pol...)
	if i < int64(len(s.assocs)) {
		b = append(b, `,"next_cursor":"`...)
		b = strconv.AppendInt(b, i, 10)
		b = append(b, '"')
	}
	return append(b, "}\n"...), nil
}

func parseCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		return 0, uemapi.FieldError("cursor", "is not a cursor this server issued")
	}
	return n, nil
}
