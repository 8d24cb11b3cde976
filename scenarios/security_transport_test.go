package scenarios_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// dribble opens a TLS connection to the gateway, sends the head of a
// Sync of d announcing a body of size bytes, and then sends one body byte
// every gap, never finishing. It returns what the connection gave back
// once the gateway answered or closed it, or an error after patience.
func dribble(f *fw.Framework, d *device.Device, size int, gap, patience time.Duration) (status int, err error) {
	u, err := url.Parse(f.DeviceURL())
	Expect(err).NotTo(HaveOccurred())
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", u.Host,
		&tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) //nolint:gosec // the world's throwaway certificate
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close()

	cfg := d.Config()
	q := &eas.Query{Cmd: eas.CmdSync, User: d.User(), DeviceID: d.ID(), DeviceType: cfg.DeviceType()}
	req, _ := http.NewRequest(http.MethodPost, f.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
	req.SetBasicAuth(d.User(), cfg.Password)
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nUser-Agent: %s\r\nContent-Type: %s\r\n%s: %s\r\n%s: %s\r\nContent-Length: %d\r\n\r\n",
		req.URL.RequestURI(), u.Host, req.Header.Get("Authorization"), cfg.UserAgent(), eas.ContentTypeWBXML,
		eas.HeaderProtocolVersion, cfg.Version, eas.HeaderPolicyKey, d.PolicyKey(), size)
	_, err = conn.Write(append([]byte(head), 0x03, 0x01, 0x6a, 0x00)) // the WBXML header of a Sync
	Expect(err).NotTo(HaveOccurred())

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(gap)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := conn.Write([]byte{0}); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(patience))
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return 0, fmt.Errorf("the gateway still held the request after %v: %w", patience, err)
		}
		return 0, nil // closed: cut
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

var _ = Describe("Security: transport", func() {
	f := fw.New()

	fw.It("a device request body that stalls longer than the socket read/write timeout is cut", fw.IDs("ASC-20"), fw.Security(), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.Timeouts.SocketReadWriteMs = 1000 })
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		// One byte every 1.5 s, each read stalling past the 1 s socket
		// timeout; the server response timeout (60 s) is far away.
		status, err := dribble(f, d, 4096, 1500*time.Millisecond, 8*time.Second)
		Expect(err).NotTo(HaveOccurred(), "the dribbled request was cut")
		Expect(status).NotTo(Equal(http.StatusOK), "no answer but an error for a request that never arrived whole")
	})

	fw.It("a 451 to an http:// location is not followed: nothing is sent in clear, the device gets an error", fw.IDs("RDR-02"), fw.Security(fw.FeatureRedirect), func() {
		var hits atomic.Int64
		clear := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusOK)
		}))
		DeferCleanup(clear.Close)
		user := f.NewUser()
		d := f.NewDevice(user)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(f.Exchange.SetRedirect(f.Ctx(), user, clear.URL+"/Microsoft-Server-ActiveSync")).To(Succeed())
		DeferCleanup(func() { _ = f.Exchange.SetRedirect(f.Ctx(), user, "") })

		d.Reset()
		Expect(d.Connect(f.Ctx())).NotTo(Succeed(), "the device is not served through a plain-HTTP redirect")
		// The gateway handles a 451 itself (RDR-01): relaying it would
		// hand the device the http:// location to follow with its
		// credentials, and is what a plain proxy does.
		for _, rt := range d.Records() {
			Expect(rt.HTTPStatus).NotTo(Equal(451), "the device saw the 451 of %s", rt.Cmd)
		}
		Expect(hits.Load()).To(BeZero(), "requests (with the device's credentials) sent to %s", clear.URL)
	})

	fw.It("a UEM that refuses the gateway's credential (401) or access (403) is not unreachable: new devices are blocked, not let in by fail-open", fw.IDs("FO-01"), fw.Security(fw.FeatureFailOpen), func() {
		var last *device.Device
		for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
			Expect(f.UEM.SetFaults(f.Ctx(), uem.Faults{AuthStatus: status})).To(Succeed())
			d := f.NewDevice(f.NewUser())
			Expect(d.Connect(f.Ctx())).To(MatchError(device.ErrBlocked), "a new device while the UEM answers %d", status)
			Expect(f.ReachedExchange(d)).To(BeFalse())
			last = d
		}
		Expect(f.UEM.SetFaults(f.Ctx(), uem.Faults{})).To(Succeed())
		Eventually(func() error { return last.Connect(f.Ctx()) }).Should(Succeed(), "decided by the UEM once it accepts the gateway again")
		Expect(f.SyncStatus(last)()).To(Equal("Allowed"))
	})
})
