package scenarios_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// notifier posts notifications to the gateway's notification endpoint as
// the UEM does (docs/uem-api.md): JSON, X-Gatehouse-Timestamp and an
// HMAC-SHA256 X-Gatehouse-Signature over "<timestamp>.<body>".
type notifier struct {
	f      *fw.Framework
	url    string
	secret []byte
}

func newNotifier(f *fw.Framework) *notifier {
	url, secret := f.NotificationTarget()
	return &notifier{f: f, url: url, secret: secret}
}

// signing says how a notification is signed.
type signing int

const (
	signed      signing = iota // with the UEM's secret
	unsigned                   // no timestamp or signature headers
	wrongKey                   // with another secret
	tampered                   // signed, then the body changed
	stampedOnly                // a current timestamp but no signature header
)

// post sends n, stamped at ts, signed as s, and returns the HTTP status.
func (nt *notifier) post(n uemapi.Notification, ts time.Time, s signing) int {
	if n.GatewayID == "" {
		n.GatewayID = nt.f.GatewayID()
	}
	if n.Time.IsZero() {
		n.Time = ts.UTC()
	}
	body, err := json.Marshal(n)
	Expect(err).NotTo(HaveOccurred())
	sent := body
	if s == tampered {
		sent = bytes.Replace(body, []byte(`"type"`), []byte(` "type"`), 1) // same meaning, other bytes
	}
	req, err := http.NewRequest(http.MethodPost, nt.url, bytes.NewReader(sent))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(uemapi.HeaderDelivery, n.ID)
	switch s {
	case signed, tampered:
		req.Header.Set(uemapi.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set(uemapi.HeaderSignature, uemapi.Sign(nt.secret, ts.Unix(), body))
	case stampedOnly:
		req.Header.Set(uemapi.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	case wrongKey:
		req.Header.Set(uemapi.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		req.Header.Set(uemapi.HeaderSignature, uemapi.Sign([]byte("not the UEM's secret"), ts.Unix(), body))
	}
	resp, err := nt.f.HTTPClient().Do(req)
	Expect(err).NotTo(HaveOccurred(), "posting a notification to %s", nt.url)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode
}

// blockOf is a device.state notification blocking d.
func blockOf(f *fw.Framework, d *device.Device, id string) uemapi.Notification {
	a, err := f.Association(d)
	Expect(err).NotTo(HaveOccurred())
	return uemapi.Notification{ID: id, Type: uemapi.NotifyDeviceState, Device: &uemapi.Decision{
		AssociationID: a.ID, EASDeviceID: d.ID(), User: a.User, State: uemapi.StateBlocked,
		Reason: uemapi.ReasonManualBlock, Behavior: uemapi.PolicyApplyServer, Registered: a.Registered}}
}

func notificationID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "spec-" + hex.EncodeToString(b)
}

// staysAllowed checks, for a second, that the device keeps syncing.
func staysAllowed(f *fw.Framework, d *device.Device, why string) {
	Consistently(func() error { _, err := d.Sync(f.Ctx()); return err }, time.Second, 100*time.Millisecond).
		Should(Succeed(), why)
}

// deviceStateDeliveries are the ids of the device.state notifications the
// UEM delivered to the gateway.
func deviceStateDeliveries(f *fw.Framework) []string {
	ds, err := f.UEM.Deliveries(f.Ctx())
	Expect(err).NotTo(HaveOccurred())
	var ids []string
	for _, d := range ds {
		if d.Type == string(uemapi.NotifyDeviceState) && d.Status == uem.DeliveryDelivered && d.GatewayID == f.GatewayID() {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

var _ = Describe("Security: UEM notifications", func() {
	f := fw.New()

	fw.It("unsigned, wrongly signed and altered notifications are refused and not applied", fw.Security(fw.FeatureBlock), func() {
		nt := newNotifier(f)
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		for name, s := range map[string]signing{"unsigned": unsigned, "unsigned with a current timestamp": stampedOnly,
			"signed with another secret": wrongKey, "altered after signing": tampered} {
			Expect(nt.post(blockOf(f, d, notificationID()), time.Now(), s)).To(BeNumerically(">=", 400), "a notification %s is refused", name)
		}
		staysAllowed(f, d, "no forged block was applied")
	})

	fw.It("a notification replayed within its timestamp window is not applied again, however many came in between; a stale one is refused", fw.Security(fw.FeatureBlock, fw.FeatureManual), func() {
		nt := newNotifier(f)
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())

		// The UEM blocks the device, then allows it again.
		seen := deviceStateDeliveries(f)
		f.Act(d, uem.ActBlock, "suspicious")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		// The gateway applies the block before the UEM has read its answer
		// and recorded the delivery: wait for the record.
		var blockID string
		Eventually(func() string {
			for _, id := range deviceStateDeliveries(f) {
				if !slices.Contains(seen, id) {
					blockID = id
				}
			}
			return blockID
		}).ShouldNot(BeEmpty(), "the UEM delivered the block")
		f.Act(d, uem.ActAllow, "false alarm")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(Succeed())

		// Someone who recorded the block sends it again, correctly signed
		// and within the timestamp window.
		replay := blockOf(f, d, blockID)
		status := nt.post(replay, time.Now(), signed)
		GinkgoWriter.Printf("replay answered HTTP %d\n", status)
		staysAllowed(f, d, "the replayed block was not applied")

		// Many genuine notifications later (more than a small bounded
		// memory of ids holds), the same replay must still be recognised.
		const filler, workers = 5000, 8
		ids := make(chan int)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				for i := range ids {
					id := f.FreshDeviceID()
					nt.post(uemapi.Notification{ID: notificationID(), Type: uemapi.NotifyPurge,
						Purge: &uemapi.PurgeNotification{DeviceRef: uemapi.DeviceRef{EASDeviceID: id, User: "nobody" + strconv.Itoa(i)}}}, time.Now(), signed)
				}
			}()
		}
		for i := range filler {
			ids <- i
		}
		close(ids)
		wg.Wait()
		status = nt.post(replay, time.Now(), signed)
		GinkgoWriter.Printf("replay after %d notifications answered HTTP %d\n", filler, status)
		staysAllowed(f, d, "the replayed block was not applied after other notifications")

		// A block stamped before the timestamp window is refused outright.
		stale := blockOf(f, d, notificationID())
		Expect(nt.post(stale, time.Now().Add(-10*time.Minute), signed)).To(BeNumerically(">=", 400), "a notification stamped 10 minutes ago")
		staysAllowed(f, d, "the stale block was not applied")
	})
})
