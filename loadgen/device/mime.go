package device

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// buildMIME writes a minimal RFC 5322 plain-text message.
func buildMIME(from string, to []string, subject, text string, now time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: <%s>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		from, joinAddrs(to), subject, now.UTC().Format(time.RFC1123Z), now.UnixNano(), strings.ReplaceAll(from, "@", ".gatehouse@"))
	b.WriteString(strings.ReplaceAll(text, "\n", "\r\n"))
	b.WriteString("\r\n")
	return []byte(b.String())
}

func joinAddrs(to []string) string {
	parts := make([]string, len(to))
	for i, a := range to {
		parts[i] = "<" + a + ">"
	}
	return strings.Join(parts, ", ")
}

// decodeBase64 reads the base64 Data of an inline ItemOperations fetch.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}
