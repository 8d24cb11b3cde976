package activesync

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// TestAUD05_ResponseNamesTheGateway: a RESPONSE entry carries sentryHost,
// sentryPort and sentryAddress (seed Table 43 and the ActiveSync example),
// here the gateway's address the device connected to.
func TestAUD05_ResponseNamesTheGateway(t *testing.T) {
	r := newRig(t)
	if code, _ := r.send(t, "AUD5", eas.CmdFolderSync, "14.1", nil); code != http.StatusOK {
		t.Fatalf("FolderSync: %d", code)
	}
	gomega.NewWithT(t).Eventually(r.audit.String).WithTimeout(20 * time.Second).Should(gomega.ContainSubstring(`"entryType":"RESPONSE"`))
	u, _ := url.Parse(r.srv.URL)
	for _, line := range strings.Split(strings.TrimSpace(r.audit.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line[strings.Index(line, "{"):]), &e); err != nil {
			t.Fatal(err)
		}
		if e["entryType"] != "RESPONSE" {
			continue
		}
		if e["sentryHost"] != u.Hostname() || e["sentryAddress"] != u.Hostname() {
			t.Errorf("sentryHost %v, sentryAddress %v; want the gateway's address %s", e["sentryHost"], e["sentryAddress"], u.Hostname())
		}
		if fmt.Sprint(e["sentryPort"]) != u.Port() {
			t.Errorf("sentryPort %v; want %s", e["sentryPort"], u.Port())
		}
	}
}
