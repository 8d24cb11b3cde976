package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/integrated"
	"github.com/gatehouse-lab/gatehouse/lab"
)

// TestCtlIntegratedStateAndResync: `ctl integrated state` shows the
// connector's sync state and `ctl integrated resync` starts a sync.
func TestCtlIntegratedStateAndResync(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Config{Integrated: true, MessagesPerUser: 1, GatewayAdminToken: "ctl-integrated-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	tokFile := filepath.Join(t.TempDir(), "ctl.token")
	if err := os.WriteFile(tokFile, []byte("ctl-integrated-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append([]string{"ctl", "--admin", l.IntegratedURL(), "--admin-token-file", tokFile, "--insecure", "integrated"}, args...))
		err := root.Execute()
		return out.String(), err
	}
	g := gomega.NewWithT(t)
	g.Eventually(func() time.Time { return l.Connector().State().LastFull }).WithTimeout(20 * time.Second).ShouldNot(gomega.BeZero())
	out, err := run("state", "-o", "json")
	var st integrated.State
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.LastFull.IsZero() || st.Mailboxes != 3 {
		t.Fatalf("state: %v %s", err, out)
	}
	if out, err := run("state"); err != nil || !strings.Contains(out, "last full") || !strings.Contains(out, "mailboxes") {
		t.Fatalf("table: %v %s", err, out)
	}
	if out, err := run("resync", "--kind", "full"); err != nil || !strings.Contains(out, "full") {
		t.Fatalf("resync: %v %s", err, out)
	}
	if _, err := run("resync", "--kind", "sideways"); err == nil {
		t.Fatal("an unknown kind must be refused")
	}
}
