package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("Wipe", func() {
	f := fw.New()

	fw.It("is delivered when the device next syncs, acknowledged, and then only Remove is valid", fw.IDs("ACT-05", "ACT-06", "ACT-07"), fw.Conformance(fw.FeatureWipe), func() {
		d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Platform = device.Android })
		f.Register(d)
		Expect(d.Connect(f.Ctx())).To(Succeed())

		f.Act(d, uem.ActWipe, "stolen")
		// Nothing happens until the device's next request.
		Consistently(func() bool { a, _ := f.Association(d); return a.WipeAcked.IsZero() }).Should(BeTrue())
		Expect(d.State()).To(Equal(device.Active))
		Expect(d.Messages()).NotTo(BeEmpty())

		Eventually(func() device.State { _, _ = d.Sync(f.Ctx()); return d.State() }).Should(Equal(device.Wiped))
		Expect(d.Saw(eas.CmdSync, 200, int(eas.StatusDeviceNotProvisioned)) || d.Saw(eas.CmdSync, 449, 0)).To(BeTrue(), "told to provision")
		Expect(d.Messages()).To(BeEmpty(), "the device forgot its data")

		Eventually(func() bool { a, _ := f.Association(d); return !a.WipeAcked.IsZero() }).Should(BeTrue(), "the UEM got the acknowledgement")
		a, _ := f.Association(d)
		Expect(a.SyncStatus).To(Equal("Wiped"))
		Expect(f.EventActions(d)).To(ContainElements(uem.EventWipe, uem.EventWipeAcked))

		// The wiped device is kept out; Exchange sees nothing of it any more.
		before, _ := f.Partnership(d)
		d.Reset()
		Expect(d.Provision(f.Ctx())).To(MatchError(device.ErrBlocked))
		after, _ := f.Partnership(d)
		Expect(after.LastSync).To(BeTemporally("~", before.LastSync, 0), "no request reached Exchange after the wipe was acknowledged")

		for _, act := range []string{uem.ActAllow, uem.ActBlock, uem.ActWipe} {
			err := f.TryAct(d, act)
			Expect(uemapi.IsCode(err, uemapi.CodeActionNotAllowed)).To(BeTrue(), "%s after Wipe: %v", act, err)
		}
		f.Act(d, uem.ActRemove, "returned to stock")
		Eventually(func() error { return d.Connect(f.Ctx()) }).Should(Succeed(), "after Remove the device starts over")
	})
})
