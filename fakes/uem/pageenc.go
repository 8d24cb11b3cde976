package uem

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// writeDevicePage encodes a device page by hand: the list is the one
// endpoint that moves a million records (capacity tests), and the
// hand-written encoder is several times faster than reflection. The output
// is the JSON encoding of uemapi.DevicePage (TestDevicePageEncoding pins
// that).
func writeDevicePage(w http.ResponseWriter, p *uemapi.DevicePage) {
	bp := pageBufs.Get().(*[]byte)
	b := appendDevicePage((*bp)[:0], p)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	if cap(b) <= 16<<20 {
		*bp = b
		pageBufs.Put(bp)
	}
}

var pageBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

func appendDevicePage(b []byte, p *uemapi.DevicePage) []byte {
	b = append(b, `{"items":[`...)
	for i := range p.Items {
		e := &p.Items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"association_id":`...)
		b = appendString(b, e.AssociationID)
		b = append(b, `,"eas_device_id":`...)
		b = appendString(b, e.EASDeviceID)
		b = append(b, `,"user":`...)
		b = appendString(b, e.User)
		b = append(b, `,"state":`...)
		b = appendString(b, string(e.State))
		b = append(b, `,"policy_behavior":`...)
		b = appendString(b, string(e.Behavior))
		if e.PolicyID != "" {
			b = append(b, `,"policy_id":`...)
			b = appendString(b, e.PolicyID)
		}
		b = append(b, `,"registered":`...)
		b = strconv.AppendBool(b, e.Registered)
		if e.RedirectURL != "" {
			b = append(b, `,"redirect_url":`...)
			b = appendString(b, e.RedirectURL)
		}
		b = append(b, '}')
	}
	b = append(b, `],"policies":`...)
	pol, err := json.Marshal(p.Policies)
	if err != nil {
		pol = []byte("{}")
	}
	b = append(b, pol...)
	if p.NextCursor != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendString(b, p.NextCursor)
	}
	return append(b, "}\n"...)
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
