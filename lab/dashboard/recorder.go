package dashboard

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// maxBody bounds what the recorder keeps of one body.
const maxBody = 256 << 10

// exchange is one ActiveSync request and its answer, as a device of the
// lab sent and got it. Headers (Authorization) are never kept.
type exchange struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Device   string    `json:"device"`
	User     string    `json:"user"`
	Cmd      string    `json:"cmd"`
	HTTP     int       `json:"http"`   // 0: transport error
	Status   int       `json:"status"` // global Status, 0 when absent
	Millis   float64   `json:"ms"`
	Err      string    `json:"err,omitempty"`
	req, rsp []byte
}

// recorder keeps the last exchanges of the lab's devices.
type recorder struct {
	mu   sync.Mutex
	max  int
	seq  int64
	ring []exchange
}

func newRecorder(max int) *recorder { return &recorder{max: max} }

func (rc *recorder) wrap(inner http.RoundTripper) http.RoundTripper {
	if inner == nil {
		inner = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if !strings.HasSuffix(r.URL.Path, "/Microsoft-Server-ActiveSync") {
			return inner.RoundTrip(r)
		}
		x := exchange{At: time.Now()}
		if q, err := eas.ParseQuery(r.URL.RawQuery); err == nil { // plain or base64 (MS-ASHTTP 2.2.1.1.1)
			x.Cmd, x.Device, x.User = string(q.Cmd), q.DeviceID, q.User
		}
		if r.Body != nil && r.GetBody != nil {
			if b, err := r.GetBody(); err == nil {
				x.req, _ = io.ReadAll(io.LimitReader(b, maxBody))
				b.Close()
			}
		}
		resp, err := inner.RoundTrip(r)
		if err != nil {
			x.Millis, x.Err = ms(time.Since(x.At)), err.Error()
			rc.add(x)
			return resp, err
		}
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		x.Millis, x.HTTP = ms(time.Since(x.At)), resp.StatusCode
		if rerr != nil {
			x.Err = rerr.Error()
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), eas.ContentTypeWBXML) && len(body) <= maxBody {
			x.rsp = body
			x.Status = globalStatus(body)
		}
		rc.add(x)
		return resp, rerr
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (rc *recorder) add(x exchange) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.seq++
	x.Seq = rc.seq
	if len(rc.ring) >= rc.max {
		n := copy(rc.ring, rc.ring[len(rc.ring)-rc.max/2:])
		rc.ring = rc.ring[:n]
	}
	rc.ring = append(rc.ring, x)
}

// since returns the exchanges after seq (without bodies).
func (rc *recorder) since(seq int64) []exchange {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []exchange
	for _, x := range rc.ring {
		if x.Seq > seq {
			x.req, x.rsp = nil, nil
			out = append(out, x)
		}
	}
	return out
}

func (rc *recorder) get(seq int64) (exchange, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, x := range rc.ring {
		if x.Seq == seq {
			return x, true
		}
	}
	return exchange{}, false
}

// handleExchange returns one exchange with its bodies decoded to XML,
// credentials and message contents redacted.
func (s *Server) handleExchange(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	x, ok := s.rec.get(seq)
	if err != nil || !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such exchange (it may have aged out)"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"exchange": x, "request_xml": redactedXML(x.req), "response_xml": redactedXML(x.rsp)})
}

func globalStatus(body []byte) int {
	doc, err := wbxml.Parse(body, wbxml.DefaultLimits)
	if err != nil || doc.Root == nil {
		return 0
	}
	for _, c := range doc.Root.Children {
		if c.Tag.Name() == "Status" {
			n, _ := strconv.Atoi(strings.TrimSpace(c.Text()))
			return n
		}
	}
	return 0
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
