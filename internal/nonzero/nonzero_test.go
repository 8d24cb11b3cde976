package nonzero

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"
)

type inner struct {
	N    uint16
	When time.Time
}

type sample struct {
	S       string
	B       bool
	I       int64
	F       float64
	P       *inner
	L       []inner
	M       map[string]*inner
	A       [2]int
	Skipped string `json:"-"`
	hidden  string
}

func TestFillLeavesNoExportedFieldZero(t *testing.T) {
	var s sample
	Fill(t, &s)
	if z := ZeroFields(&s); !slices.Equal(z, []string{"sample.Skipped"}) {
		t.Fatalf("zero fields after Fill: %v", z)
	}
	if s.hidden != "" || len(s.L) != 1 || len(s.M) != 1 || s.P.When.IsZero() {
		t.Fatalf("filled %+v", s)
	}
	// The values survive encoding/json, so a round trip compares them.
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back sample
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	s.Skipped = ""
	if !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip\n got %+v\nwant %+v", back, s)
	}
}

func TestZeroFieldsNamesTheZeroOnes(t *testing.T) {
	s := sample{S: "x", P: &inner{N: 1}}
	z := ZeroFields(s)
	for _, want := range []string{"sample.B", "sample.P.When", "sample.L", "sample.Skipped"} {
		if !slices.Contains(z, want) {
			t.Errorf("ZeroFields %v lacks %s", z, want)
		}
	}
	if slices.Contains(z, "sample.S") || slices.Contains(z, "sample.P.N") {
		t.Errorf("ZeroFields %v names a set field", z)
	}
}

// A field of a kind Fill cannot fill is an error, never left zero.
func TestFillRefusesWhatItCannotFill(t *testing.T) {
	var s struct {
		Name string
		Hook func()
	}
	f := filler{}
	if err := f.fill(reflect.ValueOf(&s).Elem(), "s"); err == nil || err.Error() != "s.Hook: cannot fill a func" {
		t.Fatalf("err %v", err)
	}
}
