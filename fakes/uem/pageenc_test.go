package uem

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// TestDevicePageEncoding pins the hand-written page encoder to the JSON
// encoding of uemapi.DevicePage, escapes included.
func TestDevicePageEncoding(t *testing.T) {
	s := newStore(func() time.Time { return time.Unix(1_800_000_000, 0) }, nopSink{})
	for _, u := range []string{"plain@x.example", "quote\"back\\slash", "ctl\x01\ttab<&>", "bad\xffutf8 é \u2028"} {
		if _, err := s.reportDevice("gw", uemapi.DeviceReport{EASDeviceID: "E-" + u, User: u}); err != nil {
			t.Fatal(err)
		}
	}
	a := s.assocs[0]
	s.mu.Lock()
	a.rw().redirect = "https://h/x?a=1&b=<2>"
	a.rw().policyID = uemapi.DefaultPolicyID
	s.mu.Unlock()
	b, err := s.appendDevicePage(nil, uemapi.FilterAll, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	var got uemapi.DevicePage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	if len(got.Items) != 3 || got.NextCursor != "3" || got.Items[0].RedirectURL != "https://h/x?a=1&b=<2>" ||
		got.Items[0].PolicyID != uemapi.DefaultPolicyID || got.Policies[uemapi.DefaultPolicyID] == nil {
		t.Fatalf("page %+v", got)
	}
	for i, it := range got.Items {
		want := uemapi.DeviceEntry{AssociationID: assocID(int64(i + 1)), EASDeviceID: s.assocs[i].eas, User: s.assocs[i].userName,
			State: uemapi.StateAllowed, Behavior: uemapi.PolicyApplyServer, PolicyID: it.PolicyID, RedirectURL: it.RedirectURL}
		if i == 0 {
			want.Behavior = uemapi.PolicyAssigned
		}
		// encoding/json turns invalid UTF-8 into U+FFFD, as the encoder does.
		wantJSON, _ := json.Marshal(want)
		var norm uemapi.DeviceEntry
		_ = json.Unmarshal(wantJSON, &norm)
		if it != norm {
			t.Errorf("item %d = %+v, want %+v", i, it, norm)
		}
	}
	if b, _ := s.appendDevicePage(nil, uemapi.FilterAll, "3", 3); !json.Valid(b) {
		t.Fatalf("last page invalid: %s", b)
	}
}
