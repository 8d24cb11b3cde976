// Package audit writes the gateway's audit log: one REQUEST and one
// RESPONSE entry per device request, linked by a use-case id, in the wire
// form of the seeds' examples (AUD-08, INC-05):
//
//	2017 Nov 7 21:23:39 host SENTRY_AUDIT: INFO {"usecaseId":"U-…","entryType":"REQUEST",…}
//
// Entries never carry message contents, passwords or Authorization headers.
package audit

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"time"
)

// Entry types.
const (
	TypeRequest   = "REQUEST"
	TypeResponse  = "RESPONSE"
	TypeIPVPNConn = "IP_VPN_CONN"
)

// Service types as the examples spell them (INC-05).
const (
	ServiceActiveSync = "ACTIVE_SYNC"
	ServiceAppTunnel  = "APP_TUNNEL"
	ServiceTCPTunnel  = "TCP_TUNNEL"
	ServiceIPTunnel   = "IP_TUNNEL"
	ServiceCIFS       = "CIFS"
	ServiceAccess     = "Access"
)

// Actions of a REQUEST entry (AUD-03).
const (
	ActionAllow = "ALLOW"
	ActionBlock = "BLOCK"
	ActionNone  = "NONE"
)

// Entry is one audit record. Field order is the examples' order, which
// encoding/json keeps; empty fields are omitted as the examples omit them
// (AUD-09).
type Entry struct {
	UsecaseID      string            `json:"usecaseId"`
	EntryType      string            `json:"entryType"`
	UserID         string            `json:"userId,omitempty"`
	DeviceID       string            `json:"deviceId,omitempty"`
	DeviceType     string            `json:"deviceType,omitempty"`
	ServiceType    string            `json:"serviceType,omitempty"`
	ServiceName    string            `json:"serviceName,omitempty"`
	ClientHost     string            `json:"clientHost,omitempty"`
	ClientPort     int               `json:"clientPort,omitempty"`
	PublishTime    string            `json:"publishTime"`
	EntryID        string            `json:"entryId"`
	ServerHost     string            `json:"serverHost,omitempty"`
	ServerPort     int               `json:"serverPort,omitempty"`
	SentryHost     string            `json:"sentryHost,omitempty"`
	SentryPort     int               `json:"sentryPort,omitempty"`
	SentryAddress  string            `json:"sentryAddress,omitempty"`
	RequestURL     string            `json:"requestUrl,omitempty"`
	HTTPMethod     string            `json:"httpMethod,omitempty"`
	ApplicationID  string            `json:"applicationId,omitempty"`
	ForwardedFor   string            `json:"forwardedFor,omitempty"`
	ContextHeaders map[string]string `json:"contextHeaders,omitempty"`
	Action         string            `json:"action,omitempty"`
	HTTPStatus     string            `json:"httpStatus,omitempty"`
	Type           string            `json:"type,omitempty"`
}

// Request describes a device request for its REQUEST entry.
type Request struct {
	User, DeviceID, DeviceType string
	ServiceType, ServiceName   string
	Client                     netip.AddrPort
	ServerHost                 string
	ServerPort                 int
	URL, Method, AppID         string
	ForwardedFor               string
	Action                     string
}

// Response describes the answer for its RESPONSE entry.
type Response struct {
	Server        string // upstream host the request went to
	ServerPort    int
	Sentry        netip.AddrPort // the gateway's device-facing address
	SentryAddress string         // the gateway's own address towards the server
	HTTPStatus    int
}

// Logger writes entries as syslog-style lines. It is safe for concurrent
// use; a nil *Logger, or one that is disabled, writes nothing.
type Logger struct {
	q       *committer // the buffer and its writer goroutine (commit.go)
	host    string
	now     func() time.Time
	enabled atomic.Bool
	syslog  atomic.Pointer[[]*Syslog] // forwarding targets (AUD-12); nil: none
}

// New returns a logger writing to w with the default Buffering; host is
// the name in each line. Entries reach w within 100 ms, on Flush or on
// Close.
func New(w io.Writer, host string, now func() time.Time) *Logger {
	return NewBuffered(w, host, now, Buffering{})
}

// NewBuffered is New with the group commit's bounds set (commit.go).
func NewBuffered(w io.Writer, host string, now func() time.Time, o Buffering) *Logger {
	if now == nil {
		now = time.Now
	}
	l := &Logger{q: newCommitter(w, o), host: host, now: now}
	l.enabled.Store(true)
	return l
}

// Flush returns once every entry written before it is in the log's
// writer (readers of the log file call it first). It returns the last
// write error, if any.
func (l *Logger) Flush() error {
	if l == nil {
		return nil
	}
	return l.q.flush()
}

// Close writes the buffered entries and stops the writer goroutine;
// entries written after it are dropped and counted.
func (l *Logger) Close() error {
	if l == nil {
		return nil
	}
	return l.q.close()
}

// Dropped is how many entries were lost because the buffer stayed full
// (or came after Close).
func (l *Logger) Dropped() uint64 {
	if l == nil {
		return 0
	}
	return l.q.dropped.Load()
}

// SetEnabled turns audit output on or off (`sentry audit` / `no sentry audit`, AUD-11).
func (l *Logger) SetEnabled(on bool) { l.enabled.Store(on) }

// Enabled reports whether entries are written; false for a nil logger.
func (l *Logger) Enabled() bool { return l != nil && l.enabled.Load() }

// UseCase is one device request: its REQUEST and RESPONSE share the id.
type UseCase struct {
	l   *Logger
	id  string // uuid without prefix
	req Request
}

// Begin writes the REQUEST entry and returns the use case for the
// RESPONSE. The first entry id reuses the use-case uuid (AUD-09).
func (l *Logger) Begin(r Request) *UseCase {
	if l == nil {
		return nil // no audit log: End does nothing
	}
	uc := &UseCase{l: l, id: newUUID(), req: r}
	if !l.enabled.Load() {
		return uc
	}
	e := l.base(uc, TypeRequest)
	e.EntryID = "E-" + uc.id
	e.DeviceType = r.DeviceType
	e.ServiceName = r.ServiceName
	e.ServerHost, e.ServerPort = r.ServerHost, r.ServerPort
	e.RequestURL, e.HTTPMethod, e.ApplicationID = r.URL, r.Method, r.AppID
	e.ForwardedFor, e.Action = r.ForwardedFor, r.Action
	l.write(e)
	return uc
}

// ID returns the use-case id as logged ("U-…").
func (uc *UseCase) ID() string {
	if uc == nil {
		return ""
	}
	return "U-" + uc.id
}

// End writes the RESPONSE entry.
func (uc *UseCase) End(r Response) {
	if uc == nil || !uc.l.enabled.Load() {
		return
	}
	l := uc.l
	e := l.base(uc, TypeResponse)
	e.EntryID = "E-" + newUUID()
	e.ServerHost, e.ServerPort = r.Server, r.ServerPort
	if r.Sentry.IsValid() {
		e.SentryHost, e.SentryPort = r.Sentry.Addr().String(), int(r.Sentry.Port())
	}
	e.SentryAddress = r.SentryAddress
	if r.HTTPStatus != 0 {
		e.HTTPStatus = fmt.Sprint(r.HTTPStatus)
	}
	l.write(e)
}

func (l *Logger) base(uc *UseCase, typ string) Entry {
	e := Entry{
		UsecaseID: uc.ID(), EntryType: typ, UserID: uc.req.User, DeviceID: uc.req.DeviceID,
		ServiceType: uc.req.ServiceType, PublishTime: publishTime(l.now()),
	}
	if uc.req.Client.IsValid() {
		// The examples print the Java InetAddress form, "/10.11.80.93".
		e.ClientHost, e.ClientPort = "/"+uc.req.Client.Addr().String(), int(uc.req.Client.Port())
	}
	return e
}

func (l *Logger) write(e Entry) {
	b, err := json.Marshal(e)
	if err != nil {
		return // Entry holds only strings and ints; Marshal cannot fail
	}
	now := l.now().UTC()
	l.q.add(len(b)+len(l.host)+48, func(buf []byte) []byte {
		buf = now.AppendFormat(buf, syslogLayout)
		buf = append(buf, ' ')
		buf = append(buf, l.host...)
		buf = append(buf, " SENTRY_AUDIT: INFO "...)
		buf = append(buf, b...)
		return append(buf, '\n')
	})
	if ts := l.syslog.Load(); ts != nil {
		msg := "INFO " + string(b)
		for _, s := range *ts {
			_ = s.Send("info", "SENTRY_AUDIT", msg, now) // queued; dropped and counted when full: the local log has it
		}
	}
}

// publishTime formats as the examples do: "11/07/2017 21:23:38" with the
// hour not zero-padded ("11/01/2017 4:13:59"), which no Go layout gives.
func publishTime(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%02d/%02d/%d %d:%02d:%02d", int(t.Month()), t.Day(), t.Year(), t.Hour(), t.Minute(), t.Second())
}

// syslogTime is the line prefix: "2017 Nov 1 04:13:59".
func syslogTime(t time.Time) string { return t.UTC().Format(syslogLayout) }

const syslogLayout = "2006 Jan 2 15:04:05"

// newUUID returns a version 4 UUID. The bits come from math/rand/v2's
// ChaCha8 generator (seeded by the runtime from the system's entropy): the
// ids must be unique, not secret, and crypto/rand's system call per entry
// was a fifth of the audit's cost (issue 22).
func newUUID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:16], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:], b[10:])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}
