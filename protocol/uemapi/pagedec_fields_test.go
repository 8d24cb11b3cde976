package uemapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gatehouse-lab/gatehouse/internal/nonzero"
)

// TestDecodeDevicePageKeepsEveryField guards the hand-written decoder
// against a field added to DevicePage or DeviceEntry: every field is
// filled by reflection, so a field decodeDevicePage does not know comes
// back zero and differs from what encoding/json decodes.
func TestDecodeDevicePageKeepsEveryField(t *testing.T) {
	var page DevicePage
	nonzero.Fill(t, &page)
	data, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	var want DevicePage
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if z := nonzero.ZeroFields(want.Items[0]); len(z) > 0 {
		t.Fatalf("the filled entry lost %v through encoding/json: fix the test's values", z)
	}
	var got DevicePage
	if err := decodeDevicePage(data, &got); err != nil {
		t.Fatalf("decodeDevicePage(%s): %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		if z := nonzero.ZeroFields(got.Items[0]); len(z) > 0 {
			t.Errorf("decodeDevicePage drops %v: teach pageDecoder.items the new field", z)
		}
		t.Fatalf("decodeDevicePage\n got %+v\nwant %+v", got, want)
	}
}
