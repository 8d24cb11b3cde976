package identity

import "testing"

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{in: "alice", want: "alice"},
		{in: "ALICE", want: "alice"},
		{in: "CORP\\alice", want: "alice"},
		{in: "corp\\Alice", want: "alice"},
		{in: "alice@corp.example", want: "alice"},
		{in: "Alice@Corp.Example", want: "alice"},
		{in: " alice ", want: "alice"},
		{in: "", err: true},
		{in: "CORP\\", err: true},
		{in: "@corp.example", err: true},
		{in: "ali\nce", err: true},
		{in: "ali\x1bce", err: true},
		{in: "ali\x00ce", err: true},
		{in: "ali\u202ece", err: true},
		{in: "\xff", err: true},
	} {
		got, err := Normalize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestEqual(t *testing.T) {
	if !Equal("CORP\\alice", "alice@corp.example") {
		t.Error("CORP\\alice and alice@corp.example are one user")
	}
	if Equal("alice", "bob") || Equal("", "") {
		t.Error("different or empty names compare equal")
	}
}

func TestCheckLength(t *testing.T) {
	long := make([]byte, MaxLen+1)
	for i := range long {
		long[i] = 'a'
	}
	if Check(string(long)) == nil || Check(string(long[:MaxLen])) != nil {
		t.Error("MaxLen not enforced at the boundary")
	}
}
