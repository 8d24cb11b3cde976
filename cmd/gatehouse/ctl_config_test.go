package main

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// CFG-01/02/04: `ctl config export` writes the local settings as XML and
// `ctl config import` loads them back into another gateway; a wrong or
// unknown field is refused by name and nothing is applied.
func TestCFG01ExportImportRoundTrip(t *testing.T) {
	newGW := func(auditOn bool, iv time.Duration) (*audit.Logger, *stats.Collection, func(...string) (string, error)) {
		l := audit.New(io.Discard, "gw", nil)
		l.SetEnabled(auditOn)
		coll := stats.NewCollection(iv)
		srv := httptest.NewTLSServer(admin.Handler(admin.Deps{Audit: l, Collection: coll, Token: "tok"}))
		t.Cleanup(srv.Close)
		return l, coll, ctlRunner(t, srv.URL)
	}
	_, srcColl, src := newGW(true, 2*time.Minute)
	off := false
	if err := srcColl.Set(&off, nil); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "sentry.xml")
	if out, err := src("config", "export", "-o", file); err != nil {
		t.Fatalf("export: %v (%s)", err, out)
	}
	data, _ := os.ReadFile(file)
	for _, want := range []string{`<sentry-configuration version="1">`, "<audit>true</audit>", "<enabled>false</enabled>", "<interval>2m0s</interval>"} {
		if !strings.Contains(string(data), want) {
			t.Fatalf("export lacks %s:\n%s", want, data)
		}
	}
	dstAudit, dstColl, dst := newGW(false, 0)
	if out, err := dst("config", "import", file); err != nil {
		t.Fatalf("import: %v (%s)", err, out)
	}
	if on, iv := dstColl.State(); !dstAudit.Enabled() || on || iv != 2*time.Minute {
		t.Fatalf("after import: audit %v, collection %v %s", dstAudit.Enabled(), on, iv)
	}
	bad := []struct{ file, field string }{
		{strings.Replace(string(data), "2m0s", "soon", 1), "statistics/interval"},
		{strings.Replace(string(data), "<audit>", "<tls-cert>x</tls-cert><audit>", 1), "tls-cert"},
		{strings.Replace(string(data), `version="1"`, `version="7"`, 1), "version"},
	}
	for _, b := range bad {
		p := filepath.Join(t.TempDir(), "bad.xml")
		os.WriteFile(p, []byte(strings.Replace(b.file, "<audit>true", "<audit>false", 1)), 0o600)
		_, err := dst("config", "import", p)
		if err == nil || !strings.Contains(err.Error(), b.field+":") {
			t.Errorf("import with bad %s: %v", b.field, err)
		}
		if !dstAudit.Enabled() {
			t.Fatalf("a refused import (%s) switched the audit off", b.field)
		}
	}
}
