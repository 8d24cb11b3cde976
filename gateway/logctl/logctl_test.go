package logctl

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// LOG-02: level 3 content is redacted of the passwords a device sends in
// WBXML (Settings DevicePassword, ItemOperations Password), even at level 4.
func TestLOG02ContentRedactsWBXMLPasswords(t *testing.T) {
	m := wbxml.MustTag
	body, err := wbxml.Marshal(wbxml.NewElement(m("Settings:Settings"),
		wbxml.NewElement(m("Settings:DevicePassword"), wbxml.NewElement(m("Settings:Set"), wbxml.NewText(m("Settings:Password"), "s3cret-pin"))),
		wbxml.NewText(m("Settings:Model"), "iPhone15,2")))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := New(&out)
	if err := c.Enable(Device); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLevel(Level4); err != nil {
		t.Fatal(err)
	}
	h := c.Devices(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if !bytes.Equal(got, body) {
			t.Errorf("handler got %d bytes, want the device's %d", len(got), len(body))
		}
		w.Header().Set("Content-Type", "application/vnd.ms-sync.wbxml")
		_, _ = w.Write(body)
	}), func(*http.Request) Entry { return Entry{DeviceID: "D1"} })
	req := httptest.NewRequest(http.MethodPost, "/Microsoft-Server-ActiveSync?Cmd=Settings&User=u&DeviceId=D1&DeviceType=iPhone", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/vnd.ms-sync.wbxml")
	h.ServeHTTP(httptest.NewRecorder(), req)
	log := out.String()
	if strings.Contains(log, "s3cret-pin") || strings.Count(log, "<DevicePassword>[redacted]</DevicePassword>") != 2 || !strings.Contains(log, "iPhone15,2") {
		t.Fatalf("log:\n%s", log)
	}
}

// LOG-05/06: filter validation names what is wrong; disabled filters do
// not count, and with none enabled every line is kept.
func TestLOG06MatchIsAnORAndIgnoresDisabledFilters(t *testing.T) {
	c := New(io.Discard)
	if err := c.AddFilter(Filter{Tag: "x", Type: "imei", Value: "1"}); err == nil || !strings.Contains(err.Error(), "imei") {
		t.Fatalf("unknown type: %v", err)
	}
	for _, f := range []Filter{{Tag: "A", Type: "device-ip", Value: "10.0.0.1"}, {Tag: "B", Type: "user-id", Value: "JohnD"}} {
		if err := c.AddFilter(f); err != nil {
			t.Fatal(err)
		}
	}
	s := c.Settings()
	if tags, keep := match(&s, Entry{User: "johnd", DeviceIP: "10.0.0.2"}); !keep || strings.Join(tags, ",") != "B" {
		t.Fatalf("user-id is case-insensitive: %v %v", tags, keep)
	}
	if _, keep := match(&s, Entry{User: "other"}); keep {
		t.Fatal("a line matching no filter is kept")
	}
	c.SetFiltersEnabled("A", false)
	c.SetFiltersEnabled("B", false)
	s = c.Settings()
	if tags, keep := match(&s, Entry{}); !keep || tags != nil {
		t.Fatalf("with every filter disabled: %v %v", tags, keep)
	}
	if _, err := ParseLevel("level_5"); err == nil {
		t.Fatal("level_5 accepted")
	}
}
