package apptunnel

// Real peers (issue 21): curl acts as an app through the tunnel listener
// to an nginx backend, and Debian's squid is the server-side explicit
// proxy whose access log shows what went through it and with which
// context headers. They skip without the tools and fail under
// GATEHOUSE_REQUIRE_PEERS=1.

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/internal/loopback"
	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// freePort is a port for a daemon to bind, below the ephemeral range: a
// port from bind(0), released, could go to a parallel test package's
// server before the daemon starts, and startPeer would wait on that one.
func freePort(t *testing.T) int {
	t.Helper()
	addr, err := loopback.Port()
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(addr)
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// startPeer runs a daemon in the foreground until the test ends and waits
// for its port to accept connections.
func startPeer(t *testing.T, port int, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, _ := os.Create(filepath.Join(t.TempDir(), "out.log"))
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: nginx's workers (and squid's helpers) outlive
	// a master killed alone, so the whole group is stopped.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	gomega.NewWithT(t).Eventually(func() error {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
		}
		return err
	}).WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).Should(gomega.Succeed(), "%s did not start", name)
}

// startNginx serves a page and logs each request with the context
// header it carried.
func startNginx(t *testing.T) (addr, accessLog string) {
	bin := peers.Require(t, "nginx", "nginx")
	dir := openDir(t, "nginx") // nginx's workers run as another user
	port := freePort(t)
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("intranet page\n"), 0o644))
	accessLog = filepath.Join(dir, "access.log")
	conf := fmt.Sprintf(`daemon off; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events {}
http {
  access_log off; client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  log_format ctx '$request ctx=$http_x_mobileiron_device_uuid app=$http_x_gatehouse_app_id';
  server { listen 127.0.0.1:%[2]d; root %[1]s; access_log %[3]s ctx; }
}
`, dir, port, accessLog)
	must(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644))
	startPeer(t, port, bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	return "127.0.0.1:" + strconv.Itoa(port), accessLog
}

// startSquid runs squid as an explicit proxy logging each request's
// method, URL and X-MobileIron-DEVICE-UUID header.
func startSquid(t *testing.T) (port int, accessLog string) {
	bin := peers.Require(t, "squid", "squid")
	dir := openDir(t, "squid") // squid drops to its own user
	port = freePort(t)
	accessLog = filepath.Join(dir, "access.log")
	conf := fmt.Sprintf(`http_port 127.0.0.1:%[2]d
http_access allow all
cache deny all
logformat ctx %%rm %%ru ctx=%%{X-MobileIron-DEVICE-UUID}>h
access_log stdio:%[3]s ctx
cache_log %[1]s/cache.log
pid_filename %[1]s/squid.pid
coredump_dir %[1]s
shutdown_lifetime 0 seconds
`, dir, port, accessLog)
	must(t, os.WriteFile(filepath.Join(dir, "squid.conf"), []byte(conf), 0o644))
	startPeer(t, port, bin, "-N", "-f", filepath.Join(dir, "squid.conf"))
	return port, accessLog
}

// openDir is a temporary directory other users may write to: the peers
// drop root for their own user.
func openDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", name)
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o777))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// curlApp runs curl as an app through the tunnel listener.
func (w *world) curlApp(t *testing.T, appID string, extra ...string) (string, error) {
	bin := peers.Require(t, "curl", "curl")
	dir := t.TempDir()
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.appCert.Leaf.Raw})
	keyDER, err := x509.MarshalPKCS8PrivateKey(w.appCert.PrivateKey)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "app.pem"), certPEM, 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "app.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	args := append([]string{"-sS", "--max-time", "20", "--proxy", "https://" + w.addr, "--proxy-insecure",
		"--proxy-cert", filepath.Join(dir, "app.pem"), "--proxy-key", filepath.Join(dir, "app.key"),
		"--proxy-header", HeaderAppID + ": " + appID}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

func readLog(t *testing.T, p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func TestPeersCurlAppReachesNginxThroughAnyAndAnHTTPService(t *testing.T) {
	w := newWorld(t)
	nginx, log := startNginx(t)
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) {
		at.ContextHeaders = true
		at.Services = append(at.Services, uemapi.AppTunnelService{Name: "Wiki", Servers: nginx, ServerAuth: uemapi.AuthPassThrough})
	})
	// <ANY>, absolute-form: curl sends the proxy headers with the request.
	out, err := w.curlApp(t, "com.curl.any", "http://"+nginx+"/index.html")
	if err != nil || out != "intranet page\n" {
		t.Fatalf("curl through <ANY>: %v %q", err, out)
	}
	// A custom HTTP service addressed by its name: round robin to nginx.
	out, err = w.curlApp(t, "com.curl.wiki", "--proxy-header", HeaderService+": Wiki", "http://Wiki/index.html")
	if err != nil || out != "intranet page\n" {
		t.Fatalf("curl through Wiki: %v %q", err, out)
	}
	// CONNECT (curl --proxytunnel) through <TCP_ANY>.
	out, err = w.curlApp(t, "com.curl.tcp", "--proxytunnel", "http://"+nginx+"/index.html")
	if err != nil || out != "intranet page\n" {
		t.Fatalf("curl CONNECT: %v %q", err, out)
	}
	gomega.NewWithT(t).Eventually(func() string { return readLog(t, log) }).WithTimeout(20*time.Second).Should(gomega.ContainSubstring("GET /index.html HTTP/1.1 ctx="+testUUID+" app=-"),
		"nginx saw the context headers and not the tunnel protocol's")
	// A host outside the wildcard, with a real client.
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) {
		at.Services[1].HostWildcards = "*.corp.example"
	})
	out, _ = w.curlApp(t, "com.curl.any", "-o", "/dev/null", "-w", "%{http_code}", "http://"+nginx+"/index.html")
	if out != "403" {
		t.Fatalf("outside the wildcard: %q", out)
	}
}

func TestPeersSquidIsTheServerSideProxy(t *testing.T) {
	w := newWorld(t)
	nginx, _ := startNginx(t)
	squidPort, squidLog := startSquid(t)
	echo := echoServer(t)
	w.configure(func(at *uemapi.AppTunnelConfig, tc *uemapi.TrafficControl) {
		at.ContextHeaders = true
		at.Services[1].ProxyATC = true // <ANY>
		at.Services[2].ProxyATC = true // <TCP_ANY>
		*tc = uemapi.TrafficControl{Mode: uemapi.TrafficATC, Proxies: []uemapi.ProxyServer{{Name: "squid", Host: "127.0.0.1", Port: squidPort}},
			Rules:         []uemapi.TrafficRule{{AppID: "com.direct.*", Action: uemapi.ActionAllow}, {AppID: "com.blocked", Action: uemapi.ActionBlock}},
			DefaultAction: uemapi.ActionProxy, DefaultProxy: "squid"}
	})
	// ATC-02: HTTP through the proxy in absolute form, with the headers.
	if out, err := w.curlApp(t, "com.proxied", "http://"+nginx+"/index.html"); err != nil || out != "intranet page\n" {
		t.Fatalf("through squid: %v %q", err, out)
	}
	// ATC-03, CTX-04: CONNECT to squid carrying the context headers.
	c := w.dial(false)
	if resp, _ := w.send(c, "CONNECT "+echo+" HTTP/1.1\r\nHost: "+echo+"\r\n"+HeaderAppID+": com.proxied.tcp\r\n\r\n"); resp.StatusCode != 200 {
		t.Fatalf("CONNECT through squid: %d", resp.StatusCode)
	}
	c.Close()
	// ATC-10: Allow goes direct, Block is refused.
	if out, err := w.curlApp(t, "com.direct.app", "http://"+nginx+"/direct.html", "-o", "/dev/null"); err != nil {
		t.Fatalf("direct: %v %q", err, out)
	}
	if out, _ := w.curlApp(t, "com.blocked", "-o", "/dev/null", "-w", "%{http_code}", "http://"+nginx+"/blocked.html"); out != "403" {
		t.Fatalf("ATC block: %q", out)
	}
	g := gomega.NewWithT(t)
	g.Eventually(func() string { return readLog(t, squidLog) }).WithTimeout(10*time.Second).Should(gomega.And(
		gomega.ContainSubstring("GET http://"+nginx+"/index.html ctx="+testUUID),
		gomega.ContainSubstring("CONNECT "+echo+" ctx="+testUUID)), "squid's access log")
	if l := readLog(t, squidLog); strings.Contains(l, "direct.html") || strings.Contains(l, "blocked.html") {
		t.Fatalf("Allow or Block traffic went through squid:\n%s", l)
	}
}
