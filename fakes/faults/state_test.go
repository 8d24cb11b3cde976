package faults

import (
	"errors"
	"syscall"
	"testing"
)

// settings is a fake's own fault fields.
type settings struct {
	Down   bool
	Own    bool // not a shared fault
	Status int
}

func (s settings) Specs() []Spec {
	var out []Spec
	if s.Down {
		out = append(out, Spec{Toxic: Down{}})
	}
	if s.Status != 0 {
		out = append(out, Spec{Direction: Upstream, Toxic: ErrorStatus{Status: s.Status}})
	}
	return out
}

func TestStateSetsTheSpecsItsSettingsMapTo(t *testing.T) {
	st := NewState[settings](1)
	l := listen(t, st.Injector())
	if err := st.Set(settings{Down: true, Own: true, Status: 502}); err != nil {
		t.Fatal(err)
	}
	if got := st.Get(); !got.Down || !got.Own || got.Status != 502 {
		t.Fatalf("Get = %+v", got)
	}
	if specs := st.Injector().Specs(); len(specs) != 2 || specs[0].Name != "down" || specs[1].Name != "error" {
		t.Fatalf("specs %+v", specs)
	}
	if _, err := dial(t, l); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("down: %v", err)
	}
	if err := st.Set(settings{Own: true}); err != nil {
		t.Fatal(err)
	}
	if len(st.Injector().Specs()) != 0 {
		t.Fatalf("specs left: %+v", st.Injector().Specs())
	}
	if c, err := dial(t, l); err != nil {
		t.Fatalf("up again: %v", err)
	} else {
		c.Close()
	}
}
