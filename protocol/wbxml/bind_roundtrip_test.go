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

type repeatMsg struct {
	XMLName struct{} `wbxml:"AirSync:Sync"`
	SyncKey string   `wbxml:"SyncKey,omitempty"`
	Unknown []*Node  `wbxml:",any"`
}

// A repeated singular element after an empty one (which omitempty drops)
// must not move between the field and Unknown on every round trip.
func TestRepeatedElementAfterEmptyOneIsStable(t *testing.T) {
	sk := MustTag("AirSync:SyncKey")
	in := NewElement(MustTag("AirSync:Sync"), NewElement(sk), NewText(sk, "7"), NewText(sk, "8"))
	var m1 repeatMsg
	if err := NodeToStruct(in, &m1); err != nil {
		t.Fatal(err)
	}
	if m1.SyncKey != "7" || len(m1.Unknown) != 1 || m1.Unknown[0].Text() != "8" {
		t.Fatalf("decoded SyncKey %q, Unknown %d; want 7 and the repeat 8 kept", m1.SyncKey, len(m1.Unknown))
	}
	n1, err := StructToNode(&m1)
	if err != nil {
		t.Fatal(err)
	}
	var m2 repeatMsg
	if err := NodeToStruct(n1, &m2); err != nil {
		t.Fatal(err)
	}
	n2, err := StructToNode(&m2)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(n1, n2); d != "" {
		t.Fatalf("second round trip changed the tree: %s", d)
	}
}

// Opaque content holding NUL cannot go into a string field: it could not be
// re-encoded as an inline string, so decoding fails instead.
func TestTextFieldRejectsNUL(t *testing.T) {
	in := NewElement(MustTag("AirSync:Sync"), NewOpaque(MustTag("AirSync:SyncKey"), []byte("1\x002")))
	var m emptyTextMsg
	if err := NodeToStruct(in, &m); err == nil {
		t.Fatalf("decoded %q into a string field", m.SyncKey)
	}
}
