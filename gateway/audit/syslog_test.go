package audit_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/internal/peers"
)

// rsyslog starts Debian's rsyslogd receiving on a loopback port over
// proto (udp or tcp) and writing what it gets to a file; it returns the
// port and the file.
func rsyslog(t *testing.T, proto string) (int, string) {
	bin := peers.Require(t, "rsyslogd", "rsyslog")
	dir := t.TempDir()
	var port int
	if proto == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	out := filepath.Join(dir, "out.log")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="im%s")
input(type="im%s" port="%d" address="127.0.0.1")
template(name="line" type="string" string="%%syslogfacility-text%%.%%syslogseverity-text%% %%HOSTNAME%% %%syslogtag%%%%msg%%\n")
*.* action(type="omfile" file=%q template="line")
`, dir, proto, proto, port, out)
	cf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-n", "-f", cf, "-i", filepath.Join(dir, "pid"))
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd: %s", stderr.String())
		}
	})
	return port, out
}

// AUD-12, AUD-13 against Debian's rsyslog on loopback: audit entries are
// forwarded over UDP and TCP as local6.info with the SENTRY_AUDIT tag and
// the JSON entry; a server whose level is above Info (warning) gets none.
func TestAUD12AuditForwardedToRsyslog(t *testing.T) {
	for _, proto := range []string{"UDP", "TCP"} {
		t.Run(proto, func(t *testing.T) {
			port, out := rsyslog(t, strings.ToLower(proto))
			l := audit.New(&bytes.Buffer{}, "gw-test", nil)
			strict, err := audit.NewSyslog(audit.SyslogTarget{Server: "127.0.0.1", Port: port, Protocol: proto, Facility: "audit", Level: "warning"}, "gw-test")
			if err != nil {
				t.Fatal(err)
			}
			s, err := audit.NewSyslog(audit.SyslogTarget{Server: "127.0.0.1", Port: port, Protocol: proto, Facility: "audit", Level: "info"}, "gw-test")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			l.SetSyslog(s)
			// rsyslog may not listen yet: send until a line arrives (bounded).
			g := gomega.NewWithT(t)
			g.Eventually(func() string {
				l.Begin(audit.Request{User: "alice", DeviceID: "ALICEPHONE", ServiceType: audit.ServiceActiveSync, ServiceName: "ActiveSync"}).End(audit.Response{HTTPStatus: 200})
				data, _ := os.ReadFile(out)
				return string(data)
			}).WithTimeout(10 * time.Second).WithPolling(200 * time.Millisecond).Should(gomega.And(
				gomega.ContainSubstring(`local6.info gw-test SENTRY_AUDIT: INFO {"usecaseId":"U-`),
				gomega.ContainSubstring(`"entryType":"RESPONSE","userId":"alice","deviceId":"ALICEPHONE","serviceType":"ACTIVE_SYNC"`)))
			// Once rsyslog listens: an entry for a server at warning is not
			// sent, the next one at info is (both in order on one socket
			// for TCP; UDP on loopback keeps order too).
			l.SetSyslog(strict)
			l.Begin(audit.Request{User: "not-forwarded", DeviceID: "D0", ServiceType: audit.ServiceActiveSync}).End(audit.Response{HTTPStatus: 200})
			l.SetSyslog(s)
			l.Begin(audit.Request{User: "last", DeviceID: "D1", ServiceType: audit.ServiceActiveSync}).End(audit.Response{HTTPStatus: 200})
			g.Eventually(func() string { data, _ := os.ReadFile(out); return string(data) }).WithTimeout(10 * time.Second).Should(gomega.ContainSubstring(`"userId":"last"`))
			data, _ := os.ReadFile(out)
			if strings.Contains(string(data), "not-forwarded") {
				t.Fatalf("an Info entry went to a server at level warning:\n%s", data)
			}
		})
	}
}

// AUD-12: a target is validated with errors naming the field.
func TestAUD12SyslogTargetNamesTheBadField(t *testing.T) {
	for field, tg := range map[string]audit.SyslogTarget{
		"protocol": {Server: "s", Protocol: "SCTP", Facility: "audit", Level: "info"},
		"facility": {Server: "s", Protocol: "UDP", Facility: "mail", Level: "info"},
		"level":    {Server: "s", Protocol: "UDP", Facility: "audit", Level: "loud"},
		"port":     {Server: "s", Port: 70000, Protocol: "UDP", Facility: "audit", Level: "info"},
	} {
		if _, err := audit.NewSyslog(tg, "h"); err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
}
