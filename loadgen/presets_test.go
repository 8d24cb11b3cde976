package loadgen

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// The registry: every preset has a spec that parses, and the ones that
// drive the lab's UEM and gateway say so (gatehouse loadgen run refuses
// them without --lab).
func TestPresetRegistry(t *testing.T) {
	if got, want := PresetNames(), []string{"capacity", "coldstart", "failopen", "resync", "soak"}; !slices.Equal(got, want) {
		t.Fatalf("presets %q, want %q", got, want)
	}
	for _, name := range PresetNames() {
		p, err := LookupPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != name || p.run == nil {
			t.Errorf("%s: %+v", name, p)
		}
		spec, err := PresetSpec(name)
		if err != nil || spec.Name != name {
			t.Errorf("%s: spec %+v, %v", name, spec, err)
		}
		wantLab := name == "failopen" || name == "coldstart" || name == "resync"
		if p.NeedsLab != wantLab {
			t.Errorf("%s: NeedsLab %v, want %v", name, p.NeedsLab, wantLab)
		}
		if p.NeedsLab {
			if _, err := p.Run(context.Background(), nil, spec, Options{}, PresetParams{}); err == nil || !strings.Contains(err.Error(), "needs --lab") {
				t.Errorf("%s without a lab: %v", name, err)
			}
		}
	}
	if _, err := LookupPreset("nosuch"); err == nil || !strings.Contains(err.Error(), "capacity, coldstart") {
		t.Errorf("unknown preset: %v, want the list of presets", err)
	}
}
