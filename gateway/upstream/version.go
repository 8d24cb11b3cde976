package upstream

import (
	"io"
	"net/http"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Limit Protocol Version (ASC-08). With a limit set on a service:
//   - an OPTIONS response advertises in MS-ASProtocolVersions only the
//     server's versions up to the limit, so that a device negotiates at
//     most the limit;
//   - a command whose protocol version (MS-ASProtocolVersion header, or
//     the base64 query's byte) is above the limit never reaches the
//     server: the gateway answers 400 Bad Request with the allowed
//     versions in MS-ASProtocolVersions, as a server answers a version
//     it does not speak, and counts d-http-400-c2s.
//
// A device that registered before the limit was set keeps its version
// until its Exchange profile is pushed again (the seeds' note); until
// then its commands are refused the same way every time.

// versionNumber parses "14.1" to 141 ("2.5" to 25, "12.0" to 120).
func versionNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	major, minor, ok := strings.Cut(s, ".")
	if !ok || len(minor) != 1 || major == "" || len(major) > 2 {
		return 0, false
	}
	n := 0
	for _, c := range major + minor {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// allowedVersions lists the protocol versions gatehouse accepts up to the
// limit, as a header value.
func allowedVersions(limit int) string {
	var out []string
	for _, v := range uemapi.ProtocolVersions {
		if n, _ := versionNumber(v); n <= limit {
			out = append(out, v)
		}
	}
	return strings.Join(out, ",")
}

// refuseVersion answers a command above the service's limit, or returns nil.
func (s *Service) refuseVersion(req *http.Request, info requestInfo, a *attempt) *http.Response {
	if s.limit == 0 || req.Method != http.MethodPost || info.version <= s.limit {
		return nil
	}
	a.count(stats.DHTTP400C2S)
	h := http.Header{}
	h.Set(eas.HeaderProtocolVersions, allowedVersions(s.limit))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	msg := "ActiveSync protocol version not allowed by this gateway\n"
	return &http.Response{
		Status:        "400 Bad Request",
		StatusCode:    http.StatusBadRequest,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(msg)),
		ContentLength: int64(len(msg)),
		Request:       req,
	}
}

// limitOptions rewrites the versions an OPTIONS response advertises.
func (s *Service) limitOptions(req *http.Request, resp *http.Response) {
	if s.limit == 0 || req.Method != http.MethodOptions {
		return
	}
	vals := resp.Header.Values(eas.HeaderProtocolVersions)
	if vals == nil {
		return
	}
	var keep []string
	for _, line := range vals {
		for e := range strings.SplitSeq(line, ",") {
			e = strings.TrimSpace(e)
			if n, ok := versionNumber(e); ok && n <= s.limit {
				keep = append(keep, e)
			}
		}
	}
	resp.Header.Set(eas.HeaderProtocolVersions, strings.Join(keep, ","))
}
