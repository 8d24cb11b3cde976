package scenarios_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// The security specs (label "security", docs/security.md) check what a
// device, the UEM or Exchange can observe of the gateway's security
// properties; the other security_*_test.go files hold the rest.

// spellings are other ways of writing u's logon name that one AD forest
// treats as u: DOMAIN\u (the NetBIOS domain from the mail domain), the
// UPN / SMTP address, and the name in capitals.
func spellings(u lab.User) []string {
	domain := "CORP"
	if _, d, ok := strings.Cut(u.Email, "@"); ok {
		domain = strings.ToUpper(strings.SplitN(d, ".", 2)[0])
	}
	return []string{domain + `\` + u.Name, u.Email, strings.ToUpper(u.Name)}
}

// partnershipsOf lists what Exchange recorded for a device id, whoever
// authenticated.
func partnershipsOf(f *fw.Framework, deviceID string) []exchange.Partnership {
	ps, err := f.Exchange.Partnerships(f.Ctx())
	Expect(err).NotTo(HaveOccurred(), "reading Exchange's partnerships")
	var out []exchange.Partnership
	for _, p := range ps {
		if p.DeviceID == deviceID {
			out = append(out, p)
		}
	}
	return out
}

// rawFolderSyncAs sends one FolderSync for deviceID naming user in the
// query, with authUser's Basic credentials ("" sends none), and returns
// the HTTP status.
func rawFolderSyncAs(f *fw.Framework, deviceID, user, authUser, password string) (int, error) {
	body, err := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	if err != nil {
		return 0, err
	}
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: user, DeviceID: deviceID, DeviceType: "iPhone"}
	req, err := http.NewRequest(http.MethodPost, f.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	if authUser != "" {
		req.SetBasicAuth(authUser, password)
	}
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

var _ = Describe("Security: identity binding", func() {
	f := fw.New()

	fw.It("a query User that is not the authenticated user is refused with HTTP 400; the UEM and Exchange hear nothing", fw.Security(fw.FeatureFirstAccess), func() {
		alice, bob := f.NewUser(), f.NewUser()
		liar := f.NewDeviceAs("", alice, bob, f.UserInfo(bob).Password)
		err := liar.Provision(f.Ctx())
		var se *device.StatusError
		Expect(errors.As(err, &se)).To(BeTrue(), "a device claiming %s while signing in as %s is refused, got %v", alice, bob, err)
		Expect(se.HTTPStatus).To(Equal(http.StatusBadRequest))
		for _, u := range []string{alice, bob} {
			Expect(f.UEM.FindAssociation(f.Ctx(), liar.ID(), u)).Error().To(HaveOccurred(), "the UEM has no association of the device for %s", u)
		}
		Expect(partnershipsOf(f, liar.ID())).To(BeEmpty(), "Exchange never saw the device")
	})

	fw.It("other spellings of the authenticated user are that user: the UEM knows the device under the plain logon name", fw.Security(fw.FeatureFirstAccess), func() {
		u := f.UserInfo(f.NewUser())
		for _, s := range spellings(u) {
			d := f.NewDeviceAs("", s, s, u.Password)
			Expect(d.Connect(f.Ctx())).To(Succeed(), "signing in as %s", s)
			a, err := f.UEM.FindAssociation(f.Ctx(), d.ID(), u.Name)
			Expect(err).NotTo(HaveOccurred(), "the UEM has the device of %s under %s", s, u.Name)
			Expect(a.User).To(Equal(u.Name), "reported as %s, not as spelt (%s)", u.Name, s)
		}
		// The query and the credentials may spell the user differently.
		d := f.NewDeviceAs("", u.Email, u.Name, u.Password)
		Expect(d.Connect(f.Ctx())).To(Succeed(), "query %s with Basic %s is one user", u.Email, u.Name)
	})

	fw.It("a device blocked for a user stays blocked when it signs in with another spelling of that user", fw.Security(fw.FeatureBlock), func() {
		u := f.UserInfo(f.NewUser())
		d := f.NewDevice(u.Name)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		f.Act(d, uem.ActBlock, "lost phone")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		before := partnershipsOf(f, d.ID())
		Expect(before).To(HaveLen(1))

		for _, s := range spellings(u) {
			again := f.NewDeviceAs(d.ID(), s, s, u.Password)
			Expect(again.Connect(f.Ctx())).To(MatchError(device.ErrBlocked), "the blocked device signing in as %s", s)
		}
		after := partnershipsOf(f, d.ID())
		Expect(after).To(HaveLen(1), "no new partnership")
		Expect(after[0].LastSync).To(BeTemporally("~", before[0].LastSync, 0), "nothing reached Exchange")
	})

	fw.It("a blocked user's password cannot sync under another user's allowed device record", fw.Security(fw.FeatureBlock), func() {
		alice, bob := f.UserInfo(f.NewUser()), f.NewUser()
		hers := f.NewDevice(alice.Name)
		Expect(hers.Connect(f.Ctx())).To(Succeed())
		f.Act(hers, uem.ActBlock, "left the company")
		Eventually(func() error { _, err := hers.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		his := f.NewDevice(bob)
		Expect(his.Connect(f.Ctx())).To(Succeed())

		// alice's credentials, bob's device id and user name in the query.
		borrowed := f.NewDeviceAs(his.ID(), bob, alice.Name, alice.Password)
		Expect(borrowed.Connect(f.Ctx())).NotTo(Succeed(), "alice cannot ride on bob's allowed record")
		for _, p := range partnershipsOf(f, his.ID()) {
			Expect(p.User).To(Equal(bob), "Exchange served nobody but bob on bob's device id")
		}
	})

	fw.It("an unauthenticated flood (300 requests, random device ids, wrong or no credentials) is refused (401, or 429 once a source is rate-limited) and leaves nothing at the UEM", fw.Security(fw.FeatureFirstAccess), func() {
		const n, workers = 300, 6
		u := f.NewUser()
		// A device that authenticates is reported: without this, a gateway
		// that reports nothing at all (a plain proxy) would pass the spec.
		known := f.NewDevice(u)
		Expect(known.Connect(f.Ctx())).To(Succeed())
		_, err := f.Association(known)
		Expect(err).NotTo(HaveOccurred(), "the gateway reported the device that authenticated")
		type probe struct{ id, user, auth, password string }
		probes := make([]probe, n)
		for i := range probes {
			p := probe{id: f.FreshDeviceID()}
			switch i % 3 {
			case 0: // a real user, a wrong password
				p.user, p.auth, p.password = u, u, "not-"+u+"-pw"
			case 1: // nobody
				p.user = fmt.Sprintf("nobody%03d", i)
				p.auth, p.password = p.user, "guess"
			default: // no credentials, a real user named in the query
				p.user = u
			}
			probes[i] = p
		}
		var (
			mu     sync.Mutex
			status = map[int]int{}
			next   = make(chan probe)
			wg     sync.WaitGroup
		)
		for range workers {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				for p := range next {
					code, err := rawFolderSyncAs(f, p.id, p.user, p.auth, p.password)
					if err != nil {
						code = -1
					}
					mu.Lock()
					status[code]++
					mu.Unlock()
				}
			}()
		}
		for _, p := range probes {
			next <- p
		}
		close(next)
		wg.Wait()
		// 401 is the answer to bad credentials; a gateway that also limits
		// each source's request rate may answer part of a flood from one
		// address with 429 (ours does for non-loopback sources, as in the
		// containerised world). Nothing else: no request got in.
		Expect(status[http.StatusUnauthorized]).To(BeNumerically(">", 0), "HTTP status → count: %v", status)
		Expect(status[http.StatusUnauthorized]+status[http.StatusTooManyRequests]).To(Equal(n), "HTTP status → count: %v", status)

		var reported []string
		for _, p := range probes {
			if _, err := f.UEM.FindAssociation(f.Ctx(), p.id, p.user); err == nil {
				reported = append(reported, p.id+"/"+p.user)
			}
		}
		Expect(reported).To(BeEmpty(), "associations the flood created at the UEM")
	})
})
