package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestActiveSyncRequestResponseMatchTheSeedExample(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2017, 11, 7, 21, 23, 38, 0, time.UTC)
	l := New(&buf, "app101.auto.ivanti.com", func() time.Time { return now })
	uc := l.Begin(Request{
		User: "testuser0851", DeviceID: "HroLBGueAofSIkAcECcHMTTqd2", DeviceType: "MD723LL",
		ServiceType: ServiceActiveSync, ServiceName: "ActiveSync",
		Client:     netip.MustParseAddrPort("10.11.80.93:61693"),
		ServerHost: "ex2013.auto19.ivanti.com", ServerPort: 443,
		URL: "/Microsoft-Server-ActiveSync", Method: "POST", Action: ActionAllow,
	})
	now = now.Add(time.Second)
	uc.End(Response{Server: "ex2013.auto19.ivanti.com", ServerPort: 443,
		Sentry: netip.MustParseAddrPort("10.10.57.239:446"), SentryAddress: "10.25.35.237", HTTPStatus: 200})
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 (AUD-01)", len(lines))
	}
	uuid := strings.TrimPrefix(uc.ID(), "U-")
	// AUD-08/AUD-10: the examples with our generated ids substituted.
	wantReq := `2017 Nov 7 21:23:38 app101.auto.ivanti.com SENTRY_AUDIT: INFO {"usecaseId":"U-` + uuid +
		`","entryType":"REQUEST","userId":"testuser0851","deviceId":"HroLBGueAofSIkAcECcHMTTqd2","deviceType":"MD723LL","serviceType":"ACTIVE_SYNC","serviceName":"ActiveSync","clientHost":"/10.11.80.93","clientPort":61693,"publishTime":"11/07/2017 21:23:38","entryId":"E-` + uuid +
		`","serverHost":"ex2013.auto19.ivanti.com","serverPort":443,"requestUrl":"/Microsoft-Server-ActiveSync","httpMethod":"POST","action":"ALLOW"}`
	if lines[0] != wantReq {
		t.Errorf("REQUEST\n got %s\nwant %s", lines[0], wantReq)
	}
	re := regexp.MustCompile(`^2017 Nov 7 21:23:39 app101.auto.ivanti.com SENTRY_AUDIT: INFO \{"usecaseId":"U-` + uuid +
		`","entryType":"RESPONSE","userId":"testuser0851","deviceId":"HroLBGueAofSIkAcECcHMTTqd2","serviceType":"ACTIVE_SYNC","clientHost":"/10.11.80.93","clientPort":61693,"publishTime":"11/07/2017 21:23:39","entryId":"E-[0-9a-f-]{36}","serverHost":"ex2013.auto19.ivanti.com","serverPort":443,"sentryHost":"10.10.57.239","sentryPort":446,"sentryAddress":"10.25.35.237","httpStatus":"200"\}$`)
	if !re.MatchString(lines[1]) {
		t.Errorf("RESPONSE does not match the example's form:\n%s", lines[1])
	}
	// AUD-09: RESPONSE omits deviceType and requestUrl; its entry id is new.
	var resp map[string]any
	json.Unmarshal([]byte(lines[1][strings.Index(lines[1], "{"):]), &resp)
	for _, absent := range []string{"deviceType", "requestUrl", "httpMethod", "action"} {
		if _, ok := resp[absent]; ok {
			t.Errorf("RESPONSE has %s", absent)
		}
	}
	if resp["entryId"] == "E-"+uuid {
		t.Error("RESPONSE reuses the use-case uuid as its entry id")
	}
}

func TestPublishTimeHourIsNotPadded(t *testing.T) {
	for ts, want := range map[time.Time]string{
		time.Date(2017, 11, 1, 4, 13, 59, 0, time.UTC): "11/01/2017 4:13:59",
		time.Date(2017, 1, 7, 21, 3, 8, 0, time.UTC):   "01/07/2017 21:03:08",
		time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC):  "12/31/2026 0:00:00",
	} {
		if got := publishTime(ts); got != want {
			t.Errorf("publishTime(%v) = %q, want %q", ts, got, want)
		}
	}
	if got := syslogTime(time.Date(2017, 11, 1, 4, 13, 59, 0, time.UTC)); got != "2017 Nov 1 04:13:59" {
		t.Errorf("syslog prefix %q", got)
	}
}

func TestDisabledAndNilLoggersWriteNothing(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "h", nil)
	l.SetEnabled(false)
	l.Begin(Request{User: "u"}).End(Response{HTTPStatus: 200})
	var nilLogger *Logger
	nilLogger.Begin(Request{User: "u"}).End(Response{HTTPStatus: 200})
	if err := errors.Join(nilLogger.Flush(), nilLogger.Close(), l.Flush()); err != nil || buf.Len() != 0 {
		t.Fatalf("disabled logger wrote %q", buf.String())
	}
	l.SetEnabled(true)
	l.Begin(Request{User: "u"})
	l.Flush()
	if !strings.Contains(buf.String(), `"userId":"u"`) {
		t.Fatal("re-enabled logger wrote nothing")
	}
}

func TestNewUUIDIsRandomVersion4(t *testing.T) {
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := newUUID()
		if !v4.MatchString(id) {
			t.Fatalf("newUUID() = %q, not a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("newUUID() repeated %q", id)
		}
		seen[id] = true
	}
}
