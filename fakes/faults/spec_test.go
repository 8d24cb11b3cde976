package faults

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

func TestEveryKindIsRegisteredAndRoundTrips(t *testing.T) {
	specs := []Spec{
		{Toxic: Down{Mode: CloseConns}, Toxicity: 0.5},
		{Name: "rst", Direction: Upstream, Toxic: ResetPeer{TimeoutMs: 10}},
		{Toxic: Slicer{AverageSize: 10, SizeVariation: 2, DelayUs: 5}},
		{Direction: Upstream, Toxic: Bandwidth{BytesPerSec: 100}},
		{Direction: Upstream, Toxic: Latency{DelayMs: 100, JitterMs: 10}},
		{Toxicity: 0.25, Toxic: ErrorStatus{Status: 502}},
		{Toxic: Hang{}},
		{Toxic: SlowBody{BytesPerSec: 1000}},
		{Toxic: Reset{}},
	}
	var kinds []string
	for _, s := range specs {
		kinds = append(kinds, s.Toxic.Kind())
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(b) || back.Validate() != nil {
			t.Fatalf("round trip: %s became %s (%v)", b, again, back.Validate())
		}
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, Kinds()) {
		t.Fatalf("registered %v, covered %v", Kinds(), kinds)
	}
}

func TestSpecErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ in, field string }{
		{`{"type":"nope"}`, "type"},
		{`{"type":"latency","colour":1}`, "colour"},
		{`{"type":"latency","attributes":{"delay":1}}`, "attributes.delay"},
		{`{"type":"latency","attributes":{"delay_ms":"1"}}`, "attributes.delay_ms"},
	} {
		var s Spec
		err := json.Unmarshal([]byte(tc.in), &s)
		var e *httpapi.Error
		if !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("%s: %v, want a field error on %s", tc.in, err, tc.field)
		}
	}
	for _, tc := range []struct {
		s     Spec
		field string
	}{
		{Spec{}, "type"},
		{Spec{Toxic: Hang{}, Direction: "sideways"}, "direction"},
		{Spec{Toxic: Hang{}, Toxicity: 1.5}, "toxicity"},
		{Spec{Toxic: Latency{DelayMs: -1}}, "attributes.delay_ms"},
		{Spec{Toxic: Latency{DelayMs: 1, JitterMs: 2}}, "attributes.jitter_ms"},
		{Spec{Toxic: ErrorStatus{Status: 200}}, "attributes.status"},
		{Spec{Toxic: Slicer{AverageSize: 2, SizeVariation: 2}}, "attributes.size_variation"},
		{Spec{Toxic: Down{Mode: "maybe"}}, "attributes.mode"},
		{Spec{Toxic: SlowBody{}}, "attributes.bytes_per_sec"},
		{Spec{Toxic: Bandwidth{}}, "attributes.bytes_per_sec"},
		{Spec{Toxic: ResetPeer{TimeoutMs: -1}}, "attributes.timeout_ms"},
	} {
		var e *httpapi.Error
		if err := tc.s.Validate(); !errors.As(err, &e) || e.Field != tc.field {
			t.Errorf("%+v: %v, want a field error on %s", tc.s, err, tc.field)
		}
	}
}

func TestSetAddRemove(t *testing.T) {
	in := New(1)
	if err := in.Set(Spec{Toxic: Hang{}}, Spec{Toxic: Hang{}}); err == nil {
		t.Fatal("two faults of one name accepted")
	}
	var e *httpapi.Error
	if err := in.Set(Spec{Toxic: Hang{}}, Spec{Toxic: Latency{DelayMs: -1}}); !errors.As(err, &e) || e.Field != "faults[1].attributes.delay_ms" {
		t.Fatalf("invalid second spec: %v", err)
	}
	mustSet(t, in, Spec{Toxic: Hang{}})
	if err := in.Add(Spec{Direction: Upstream, Toxic: Latency{DelayMs: 3}}); err != nil {
		t.Fatal(err)
	}
	if err := in.Add(Spec{Toxic: Latency{DelayMs: 4}}); err != nil {
		t.Fatal(err)
	}
	got := in.Specs()
	if len(got) != 2 || got[0].Name != "hang" || got[0].Direction != Downstream || got[1].Toxic.(Latency).DelayMs != 4 {
		t.Fatalf("specs %+v", got)
	}
	if ok, err := in.Remove("hang"); !ok || err != nil || len(in.Specs()) != 1 {
		t.Fatalf("remove: %v %v %+v", ok, err, in.Specs())
	}
	if ok, _ := in.Remove("hang"); ok {
		t.Fatal("removed twice")
	}
}
