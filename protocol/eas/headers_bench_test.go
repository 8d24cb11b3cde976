package eas

import (
	"net/http"
	"testing"
)

// BenchmarkHeaderLookup justifies headerLookup's fast path (issue 26): the
// headers of a request as net/http parses it (canonical keys), looked up
// by the specification's spellings the way a request's parse does, with
// the fast path (folded false: map lookups) against the scan over every
// key that a header set with a non-canonical key needs (folded true).
//
//	go test -run '^$' -bench HeaderLookup -count 5 ./protocol/eas/
func BenchmarkHeaderLookup(b *testing.B) {
	h := http.Header{}
	for _, kv := range [][2]string{
		{"Host", "mail.corp.example"}, {"User-Agent", "Apple-iPhone15C2/2101.51"}, {"Content-Length", "13"},
		{"Authorization", "Basic YWxpY2U6cHc="}, {"Content-Type", "application/vnd.ms-sync.wbxml"},
		{"Ms-Asprotocolversion", "16.1"}, {"X-Ms-Policykey", "1234567"}, {"Accept-Encoding", "gzip"},
		{"Accept-Language", "en-us"}, {"Connection", "keep-alive"},
	} {
		h.Set(kv[0], kv[1])
	}
	names := []string{"MS-ASProtocolVersion", "X-MS-PolicyKey", "Authorization", "Content-Type", "MS-ASAcceptMultiPart"}
	for _, tc := range []struct {
		name   string
		folded bool
	}{{"fast-path", false}, {"scan", true}} {
		b.Run(tc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				l := lookupHeaders(h)
				l.folded = tc.folded
				for _, name := range names {
					n += len(l.values(name))
				}
			}
			if n == 0 {
				b.Fatal("no header found")
			}
		})
	}
}
