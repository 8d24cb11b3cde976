package roundtrip

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// An entry written before the rename (reports/testdata/conformance.json
// holds real ones) still decodes: the JSON keys are the wire format.
func TestDeviceLogReadsEntriesWrittenBeforeTheRename(t *testing.T) {
	old := `{"device":"GH5LWPZ0002","user":"bob","version":"14.1","omitted":3,"exchanges":[` +
		`{"at":"2026-01-02T03:04:05.678Z","cmd":"Sync","http_status":200,"status":129,"duration_ms":1.5,"bytes_out":40,"bytes_in":12,"err":"blocked"}]}`
	var d DeviceLog
	if err := json.Unmarshal([]byte(old), &d); err != nil {
		t.Fatal(err)
	}
	want := Record{At: time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC), Cmd: "Sync", HTTPStatus: 200, Status: 129, DurationMs: 1.5, BytesOut: 40, BytesIn: 12, Err: "blocked"}
	if d.Device != "GH5LWPZ0002" || d.User != "bob" || d.Version != "14.1" || d.Omitted != 3 || len(d.RoundTrips) != 1 || d.RoundTrips[0] != want {
		t.Fatalf("decoded %+v", d)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != old {
		t.Errorf("re-encoded\n%s\nwant\n%s", b, old)
	}
}

func TestDeviceLogStringNamesTheDeviceAndEachRoundTrip(t *testing.T) {
	d := DeviceLog{Device: "GH1", User: "alice", RoundTrips: []Record{{Cmd: "Provision", HTTPStatus: 200}, {Cmd: "Sync", HTTPStatus: 403}}}
	s := d.String()
	for _, want := range []string{"device GH1 (user alice), last 2 round trips", "Provision", "http 403"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, missing %q", s, want)
		}
	}
}
