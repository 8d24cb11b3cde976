package apptunnel

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// auditEntries decodes the JSON of each audit line.
func auditEntries(t *testing.T, log string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		_, js, ok := strings.Cut(line, "SENTRY_AUDIT: INFO ")
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(js), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestAUD10TunnelAuditEntries(t *testing.T) {
	w := newWorld(t)
	target := "http://" + w.backendHostPort() + "/login.action?os_destination=%2Findex.action"
	if code, _, _ := w.get(target, map[string]string{HeaderAppID: "com.ivanti.securebrowser", HeaderService: "<ANY>"}); code != http.StatusOK {
		t.Fatal(code)
	}
	echo := echoServer(t)
	c := w.dial(false)
	if resp, _ := w.send(c, "CONNECT "+echo+" HTTP/1.1\r\nHost: "+echo+"\r\n"+HeaderAppID+": com.google.chrome.ios\r\n\r\n"); resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	io.WriteString(c, "x")
	c.Close()
	w.uem.set("com.bad", "block", "manual_block")
	w.get("http://"+w.backendHostPort()+"/", app("com.bad"))
	var httpReq, tcpReq, blocked map[string]any
	for _, e := range auditEntries(t, w.audit.String()) {
		if e["entryType"] != "REQUEST" {
			continue
		}
		switch e["applicationId"] {
		case "com.ivanti.securebrowser":
			httpReq = e
		case "com.google.chrome.ios":
			tcpReq = e
		case "com.bad":
			blocked = e
		}
	}
	if httpReq["serviceType"] != "APP_TUNNEL" || httpReq["serviceName"] != "<ANY>" || httpReq["requestUrl"] != target ||
		httpReq["httpMethod"] != "GET" || httpReq["action"] != "ALLOW" || httpReq["deviceId"] != testUUID || httpReq["userId"] != "alice@corp.example" {
		t.Errorf("HTTP tunnel entry %v", httpReq)
	}
	if tcpReq["serviceType"] != "TCP_TUNNEL" || tcpReq["serviceName"] != "<TCP_ANY>" || tcpReq["serverHost"] != "127.0.0.1" || tcpReq["action"] != "ALLOW" {
		t.Errorf("TCP tunnel entry %v", tcpReq)
	}
	if blocked["action"] != "BLOCK" {
		t.Errorf("blocked entry %v", blocked)
	}
}
