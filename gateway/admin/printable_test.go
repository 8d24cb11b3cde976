package admin

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
)

func TestPrintableEscapesWhatATerminalWouldInterpret(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"alice", "alice"},
		{"Appl7S032TF7A4S", "Appl7S032TF7A4S"},
		{"tél / x@y", "tél / x@y"},
		{"", ""},
		{"dev\nINJECTED", `"dev\nINJECTED"`},
		{"\x1b[2J\x1b[31mred", `"\x1b[2J\x1b[31mred"`},
		{"a\x00b", `"a\x00b"`},
		{"a\tb", `"a\tb"`},
		{"a\rb", `"a\rb"`},
		{"a\u0085b", `"a\u0085b"`},
		{"evil\u202etxt.exe", `"evil\u202etxt.exe"`},
		{"\xff\xfe", `"\xff\xfe"`},
		{"\uFFFD", "\uFFFD"},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzPrintable checks that nothing Printable returns holds a control or
// format character, and that it changes only what it must.
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"alice", "dev\nX", "\x1b[0m", "\u202e", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Printable(s)
		if strings.ContainsFunc(out, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
			t.Fatalf("Printable(%q) = %q holds a control character", s, out)
		}
		if isPrintable(s) != (out == s) {
			t.Fatalf("Printable(%q) = %q", s, out)
		}
	})
}

func TestDeviceCacheTableEscapesDeviceInput(t *testing.T) {
	// Issue 18: `ctl device-cache dump` printed a device's newline, ESC
	// and NUL raw, so a device could forge table rows or drive the
	// operator's terminal.
	e := newEnv(t)
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "dev\nFORGED\tROW", User: "bob\x1b[2J"}, State: devicecache.Allowed, ProtocolVersion: "14.1\x00"})
	rows, err := e.c.Dump(context.Background(), "all")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderEntries(&buf, rows); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.ContainsAny(out, "\x1b\x00") || strings.Contains(out, "\nFORGED") {
		t.Fatalf("raw device input in the table:\n%q", out)
	}
	for _, want := range []string{`"bob\x1b[2J"`, `"ActiveSync/dev\nFORGED\tROW"`, `"14.1\x00"`} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %s:\n%s", want, out)
		}
	}
}

func TestLookupsAcceptEverySpellingOfTheUser(t *testing.T) {
	// Since issue 18 the gateway keys devices on the normalised user;
	// an operator may still name alice by her UPN or DOMAIN\alice.
	e := newEnv(t)
	ctx := context.Background()
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "ALICEPHONE", User: "alice"}, State: devicecache.Allowed})
	e.stats.Device("ALICEPHONE", "alice").Inc(0)
	for _, u := range []string{"alice", "alice@corp.example", `CORP\alice`, "ALICE"} {
		if rows, err := e.c.Entry(ctx, "ALICEPHONE", u); err != nil || len(rows) != 1 {
			t.Errorf("entry ALICEPHONE %s: %d rows, %v", u, len(rows), err)
		}
		if rows, err := e.c.ByUser(ctx, u); err != nil || len(rows) != 1 {
			t.Errorf("user %s: %d rows, %v", u, len(rows), err)
		}
		if _, err := e.c.StatsEntry(ctx, "ALICEPHONE", u, ""); err != nil {
			t.Errorf("statistics entry ALICEPHONE %s: %v", u, err)
		}
	}
	if c, err := e.c.PurgeEntry(ctx, "ALICEPHONE", "alice@corp.example"); err != nil || c.Count != 1 || e.cache.Len() != 0 {
		t.Fatalf("purge by UPN: %+v %v, %d left", c, err, e.cache.Len())
	}
}
