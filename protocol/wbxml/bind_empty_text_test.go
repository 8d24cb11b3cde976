package wbxml

import "testing"

type emptyTextMsg struct {
	XMLName struct{} `wbxml:"AirSync:Sync"`
	SyncKey string   `wbxml:"SyncKey"`
	Limit   *string  `wbxml:"Limit,omitempty"`
}

// An empty element decoded into a string field must be re-encoded as an
// empty element, not as an element holding an empty string.
func TestEmptyTextFieldRoundTrips(t *testing.T) {
	in := NewElement(MustTag("AirSync:Sync"),
		NewElement(MustTag("AirSync:SyncKey")),
		NewElement(MustTag("AirSync:Limit")))
	var m emptyTextMsg
	if err := NodeToStruct(in, &m); err != nil {
		t.Fatal(err)
	}
	if m.Limit == nil || *m.Limit != "" {
		t.Fatalf("Limit = %v, want pointer to empty string", m.Limit)
	}
	out, err := StructToNode(&m)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(in, out); d != "" {
		t.Fatalf("round trip changed the tree: %s", d)
	}
}
