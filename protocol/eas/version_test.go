package eas

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{in: "12.1", want: V121},
		{in: "14.0", want: V140},
		{in: "14.1", want: V141},
		{in: "16.0", want: V160},
		{in: "16.1", want: V161},
		// Real servers advertise these; this package does not speak them.
		{in: "2.5", wantErr: true},
		{in: "12.0", wantErr: true},
		{in: "2.0", wantErr: true},
		// Near misses must not be accepted by a lenient number parser.
		{in: "14", wantErr: true},
		{in: "14.10", wantErr: true},
		{in: " 14.1", wantErr: true},
		{in: "14,1", wantErr: true},
		{in: "141", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrUnsupportedVersion) {
				t.Errorf("ParseVersion(%q) error = %v, want ErrUnsupportedVersion", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestVersionForms(t *testing.T) {
	// The one-byte form of the base64 query (MS-ASHTTP 2.2.1.1.1.1) next to the dotted form.
	tests := []struct {
		v      Version
		b      byte
		dotted string
	}{
		{V121, 121, "12.1"},
		{V140, 140, "14.0"},
		{V141, 141, "14.1"},
		{V160, 160, "16.0"},
		{V161, 161, "16.1"},
	}
	for _, tt := range tests {
		if tt.v.Byte() != tt.b || tt.v.String() != tt.dotted || !tt.v.Valid() {
			t.Errorf("%d: Byte=%d String=%q Valid=%v", tt.b, tt.v.Byte(), tt.v.String(), tt.v.Valid())
		}
		got, err := VersionFromByte(tt.b)
		if err != nil || got != tt.v {
			t.Errorf("VersionFromByte(%d) = %v, %v", tt.b, got, err)
		}
		back, err := ParseVersion(tt.v.String())
		if err != nil || back != tt.v {
			t.Errorf("ParseVersion(%v.String()) = %v, %v", tt.v, back, err)
		}
	}
	for _, b := range []byte{0, 25, 120, 122, 142, 161 + 1, 255} {
		if _, err := VersionFromByte(b); !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("VersionFromByte(%d) error = %v, want ErrUnsupportedVersion", b, err)
		}
		if Version(b).Valid() {
			t.Errorf("Version(%d).Valid() = true", b)
		}
	}
	if got := Version(7).String(); got != "Version(7)" {
		t.Errorf("Version(7).String() = %q", got)
	}
}

func TestVersionsOrderAndCompare(t *testing.T) {
	vs := Versions()
	if want := []Version{V121, V140, V141, V160, V161}; !slices.Equal(vs, want) {
		t.Fatalf("Versions() = %v, want %v", vs, want)
	}
	for i := range vs {
		for j := range vs {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", vs[i], vs[j], got, want)
			}
		}
	}
	vs[0] = 0
	if Versions()[0] != V121 {
		t.Error("Versions() shares its backing array with callers")
	}
}

func TestVersionText(t *testing.T) {
	type cfg struct {
		Max Version `json:"max"`
	}
	b, err := json.Marshal(cfg{Max: V141})
	if err != nil || string(b) != `{"max":"14.1"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var c cfg
	if err := json.Unmarshal([]byte(`{"max":"16.0"}`), &c); err != nil || c.Max != V160 {
		t.Fatalf("Unmarshal = %v, %v", c.Max, err)
	}
	if err := json.Unmarshal([]byte(`{"max":"2.5"}`), &c); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("Unmarshal 2.5 error = %v", err)
	}
	if _, err := json.Marshal(cfg{Max: 3}); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("Marshal of Version(3) error = %v", err)
	}
}
