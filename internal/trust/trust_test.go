package trust

import (
	"crypto/tls"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/testca"
)

func TestClient(t *testing.T) {
	dir := t.TempDir()
	ca := testca.New(t, "trust test CA", time.Now(), nil)
	good := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		insecure   bool
		pool       bool
		err        string
	}{
		{name: "system roots", file: ""},
		{name: "opt-in insecure", file: "", insecure: true},
		{name: "CA file", file: good, pool: true},
		{name: "no PEM inside", file: empty, err: "holds no PEM certificate"},
		{name: "missing file", file: filepath.Join(dir, "nope.pem"), err: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Client(tc.file, tc.insecure)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MinVersion != tls.VersionTLS12 || c.InsecureSkipVerify != tc.insecure || (c.RootCAs != nil) != tc.pool {
				t.Errorf("config: min %x insecure %v pool %v", c.MinVersion, c.InsecureSkipVerify, c.RootCAs != nil)
			}
		})
	}
}
