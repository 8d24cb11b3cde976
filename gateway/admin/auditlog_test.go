package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// GET audit/entries returns the log's lines as written, those of one
// device when asked, the last limit of them.
func TestAuditEntriesFilterAndLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	var b strings.Builder
	for i, dev := range []string{"A", "B", "A", "A"} {
		b.WriteString(`2026 Dec 5 10:00:0` + string(rune('0'+i)) + ` gw SENTRY_AUDIT: INFO {"deviceId":"` + dev + `","entryType":"REQUEST"}` + "\n")
	}
	b.WriteString("not an entry\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := readAuditTail(path, "", 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("all lines: %d, %v; want 5", len(all), err)
	}
	a, err := readAuditTail(path, "A", 2)
	if err != nil || len(a) != 2 || !strings.Contains(a[0], "10:00:02") || !strings.Contains(a[1], "10:00:03") {
		t.Fatalf("device A, last 2: %q, %v", a, err)
	}
	if none, err := readAuditTail(path, "C", 10); err != nil || len(none) != 0 {
		t.Fatalf("device C: %q, %v; want none", none, err)
	}
}
