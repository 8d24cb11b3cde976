package device

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// App is a simulated AppTunnel app (docs/apptunnel.md): an HTTP app
// (absolute-form requests), a TCP app or a Docs@Work-like CIFS_ app
// (CONNECT), reaching servers through the gateway's tunnel listener with
// its device's identity certificate.
type App struct {
	// Tunnel is the gateway's tunnel listener, host:port.
	Tunnel string
	// Cert is the identity certificate; nil sends none.
	Cert *tls.Certificate
	// BundleID is the app's bundle id / package name.
	BundleID string
	// Service names the AppTunnel service; empty lets the gateway choose.
	Service string
	// Platform is ios, macos or android (traffic-control rules); optional.
	Platform string
	// DeviceUUID is sent only for a certificate without a urn:uuid SAN.
	DeviceUUID string
	// RootCAs verifies the gateway; nil trusts any certificate (labs).
	RootCAs *x509.CertPool
	// Timeout bounds one request; default 20 s.
	Timeout time.Duration
	// Kerberos, when set, authenticates the app with a Kerberos ticket
	// for the gateway instead of a certificate (ATS-17): it returns a
	// fresh "Negotiate <token>" for Proxy-Authorization (KerberosAuth).
	Kerberos func(ctx context.Context) (string, error)
}

// AppResult is what one tunnel request got.
type AppResult struct {
	Status  int
	Refusal string // the gateway's X-Gatehouse-Refusal
	Header  http.Header
	Body    []byte
	Took    time.Duration
}

// ErrTunnelRefused is returned with a CONNECT the gateway refused.
var ErrTunnelRefused = errors.New("device: tunnel refused")

func (a *App) dial(ctx context.Context) (*tls.Conn, error) {
	cfg := &tls.Config{RootCAs: a.RootCAs, InsecureSkipVerify: a.RootCAs == nil, NextProtos: []string{"http/1.1"}} //nolint:gosec // lab gateways use throwaway certificates
	if a.Cert != nil {
		cfg.Certificates = []tls.Certificate{*a.Cert}
	}
	d := &tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, "tcp", a.Tunnel)
	if err != nil {
		return nil, fmt.Errorf("device: app %s: dial tunnel: %w", a.BundleID, err)
	}
	return c.(*tls.Conn), nil
}

func (a *App) headers(h http.Header) {
	h.Set("X-Gatehouse-App-Id", a.BundleID)
	for k, v := range map[string]string{"X-Gatehouse-Tunnel-Service": a.Service, "X-Gatehouse-Platform": a.Platform, "X-Gatehouse-Device-UUID": a.DeviceUUID} {
		if v != "" {
			h.Set(k, v)
		}
	}
}

func (a *App) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	t := a.Timeout
	if t <= 0 {
		t = 20 * time.Second
	}
	return context.WithTimeout(ctx, t)
}

// Get sends one absolute-form GET for rawURL (http://…) through the
// tunnel, on a connection of its own, and reads the whole answer.
func (a *App) Get(ctx context.Context, rawURL string) (AppResult, error) {
	ctx, cancel := a.ctx(ctx)
	defer cancel()
	u, err := url.Parse(rawURL)
	if err != nil {
		return AppResult{}, fmt.Errorf("device: app %s: %w", a.BundleID, err)
	}
	start := time.Now()
	c, err := a.dial(ctx)
	if err != nil {
		return AppResult{}, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	req := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: http.Header{}, Close: true}
	a.headers(req.Header)
	if err := a.proxyAuth(ctx, req.Header); err != nil {
		return AppResult{}, err
	}
	if err := req.WriteProxy(c); err != nil {
		return AppResult{}, fmt.Errorf("device: app %s: %w", a.BundleID, ended(ctx, err))
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		return AppResult{}, fmt.Errorf("device: app %s: %w", a.BundleID, ended(ctx, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return AppResult{Status: resp.StatusCode, Refusal: resp.Header.Get("X-Gatehouse-Refusal"), Header: resp.Header, Body: body, Took: time.Since(start)}, ended(ctx, err)
}

// ended adds ctx's error to err when ctx ended first: the connection was
// closed for it, and the read or write that failed says only "use of
// closed network connection". The caller then tells a cancellation (a
// load run's end) from a transport failure.
func ended(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, ctx.Err())
}

// Connect opens a CONNECT tunnel to hostport (a TCP or CIFS_ app). On 200
// the connection carries raw bytes; otherwise it is closed and the result
// says why, with ErrTunnelRefused.
func (a *App) Connect(ctx context.Context, hostport string) (net.Conn, AppResult, error) {
	cctx, cancel := a.ctx(ctx)
	defer cancel()
	start := time.Now()
	c, err := a.dial(cctx)
	if err != nil {
		return nil, AppResult{}, err
	}
	stop := context.AfterFunc(cctx, func() { c.Close() })
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: hostport}, Host: hostport, Header: http.Header{}}
	a.headers(req.Header)
	br := bufio.NewReader(c)
	var resp *http.Response
	if err = a.proxyAuth(cctx, req.Header); err == nil {
		err = req.Write(c)
	}
	if err == nil {
		resp, err = http.ReadResponse(br, req)
	}
	if !stop() || err != nil {
		c.Close()
		if err == nil {
			err = cctx.Err()
		}
		err = ended(cctx, err)
		return nil, AppResult{}, fmt.Errorf("device: app %s: CONNECT %s: %w", a.BundleID, hostport, err)
	}
	res := AppResult{Status: resp.StatusCode, Refusal: resp.Header.Get("X-Gatehouse-Refusal"), Header: resp.Header, Took: time.Since(start)}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, res, fmt.Errorf("%w: %d %s", ErrTunnelRefused, resp.StatusCode, res.Refusal)
	}
	return &appConn{Conn: c, r: br}, res, nil
}

// appConn reads through the buffer that read the CONNECT answer.
type appConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *appConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Echo writes msg on a tunnel and reads as many bytes back (a TCP echo
// server's answer).
func Echo(c net.Conn, msg string) (string, error) {
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	return string(buf), err
}
