package scenarios_test

import (
	"context"
	"fmt"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// The ActiveSync policy fields of the UEM's model (seed Table 25) as the
// device receives them: each field lands in the MS-ASPROV element the
// field-to-element table of docs/uem-api.md names. The fake Exchange's
// own policy (4-digit PIN, 900 s lock, nothing else required) differs
// from every value used here, so a relay that passes the server's policy
// fails.

// elements renders the policy elements a spec looks at; absent ones are
// missing from the map.
func elements(doc *eas.EASProvisionDoc) map[string]string {
	out := map[string]string{}
	if doc == nil {
		return out
	}
	b := func(name string, v *bool) {
		if v != nil {
			out[name] = map[bool]string{true: "1", false: "0"}[*v]
		}
	}
	s := func(name string, v *string) {
		if v != nil {
			out[name] = *v
		}
	}
	i := func(name string, v *int) {
		if v != nil {
			out[name] = strconv.Itoa(*v)
		}
	}
	b("DevicePasswordEnabled", doc.DevicePasswordEnabled)
	b("AlphanumericDevicePasswordRequired", doc.AlphanumericDevicePasswordRequired)
	b("AllowSimpleDevicePassword", doc.AllowSimpleDevicePassword)
	s("MinDevicePasswordLength", doc.MinDevicePasswordLength)
	s("MaxInactivityTimeDeviceLock", doc.MaxInactivityTimeDeviceLock)
	i("MinDevicePasswordComplexCharacters", doc.MinDevicePasswordComplexCharacters)
	s("DevicePasswordExpiration", doc.DevicePasswordExpiration)
	s("MaxDevicePasswordFailedAttempts", doc.MaxDevicePasswordFailedAttempts)
	i("DevicePasswordHistory", doc.DevicePasswordHistory)
	b("AllowTextMessaging", doc.AllowTextMessaging)
	b("AllowPOPIMAPEmail", doc.AllowPOPIMAPEmail)
	b("AllowDesktopSync", doc.AllowDesktopSync)
	b("AllowHTMLEmail", doc.AllowHTMLEmail)
	b("AllowBrowser", doc.AllowBrowser)
	b("RequireDeviceEncryption", doc.RequireDeviceEncryption)
	b("RequireStorageCardEncryption", doc.RequireStorageCardEncryption)
	return out
}

// wantElements is what a policy with a mandatory password must put on the
// wire (docs/uem-api.md, "What the device receives").
func wantElements(p uemapi.ActiveSyncPolicy) map[string]string {
	flag := func(v bool) string { return map[bool]string{true: "1", false: "0"}[v] }
	w := map[string]string{
		"DevicePasswordEnabled":              "1",
		"AlphanumericDevicePasswordRequired": flag(p.PasswordType == uemapi.PasswordAlphanumeric),
		"MinDevicePasswordLength":            strconv.Itoa(p.MinPasswordLength),
		"MaxInactivityTimeDeviceLock":        strconv.Itoa(p.MaxInactivityMinutes * 60),
		"MaxDevicePasswordFailedAttempts":    strconv.Itoa(p.MaxFailedAttempts),
		"DevicePasswordHistory":              strconv.Itoa(p.PasswordHistory),
		"AllowTextMessaging":                 flag(p.AllowTextMessaging),
		"AllowPOPIMAPEmail":                  flag(p.AllowPOPIMAPEmail),
		"AllowDesktopSync":                   flag(p.AllowDesktopSync),
		"AllowHTMLEmail":                     flag(p.AllowHTMLEmail),
		"AllowBrowser":                       flag(p.AllowBrowser),
		"RequireDeviceEncryption":            flag(p.RequireDeviceEncryption || p.EnableDeviceEncryption),
	}
	if p.PasswordType == uemapi.PasswordAlphanumeric {
		w["MinDevicePasswordComplexCharacters"] = strconv.Itoa(p.MinComplexChars)
	} else {
		w["AllowSimpleDevicePassword"] = "1"
	}
	if p.MaxPasswordAgeDays > 0 {
		w["DevicePasswordExpiration"] = strconv.Itoa(p.MaxPasswordAgeDays)
	}
	return w
}

// expectPolicy checks every element wantElements names, and that storage
// card encryption is never required by the ActiveSync policy (ASP-14).
func expectPolicy(d *device.Device, p uemapi.ActiveSyncPolicy) {
	GinkgoHelper()
	got := elements(d.Policy())
	for name, want := range wantElements(p) {
		Expect(got).To(HaveKeyWithValue(name, want), "element %s of the policy the device applied", name)
	}
	Expect(got["RequireStorageCardEncryption"]).NotTo(Equal("1"), "the ActiveSync policy does not require storage card encryption")
}

// assignAndProvision assigns p to the connected device d and waits until
// d provisioned it (the policy it applied satisfies done).
func assignAndProvision(f *fw.Framework, d *device.Device, p uemapi.ActiveSyncPolicy, done func(*eas.EASProvisionDoc) bool) {
	GinkgoHelper()
	a, err := f.Association(d)
	Expect(err).NotTo(HaveOccurred())
	_, err = f.UEM.Act(f.Ctx(), a.ID, uem.Action{Action: uem.ActAssignPolicy, PolicyID: p.ID, Note: "policy fields"})
	Expect(err).NotTo(HaveOccurred())
	awaitPolicy(f, d, done)
}

// awaitPolicy syncs d until the policy it applied satisfies done.
func awaitPolicy(f *fw.Framework, d *device.Device, done func(*eas.EASProvisionDoc) bool) {
	GinkgoHelper()
	Eventually(func() bool { _, _ = d.Sync(f.Ctx()); return done(d.Policy()) }).Should(BeTrue(), "the device provisioned the UEM's policy")
}

func minLength(n string) func(*eas.EASProvisionDoc) bool {
	return func(doc *eas.EASProvisionDoc) bool {
		return doc != nil && doc.MinDevicePasswordLength != nil && *doc.MinDevicePasswordLength == n
	}
}

// policyA and policyB set every pushed field, each to a value the other
// and the server's policy do not have.
func policyA(name string) uemapi.ActiveSyncPolicy {
	p := uemapi.NewPolicy(name)
	p.PasswordRequired, p.PasswordType, p.MinPasswordLength = true, uemapi.PasswordAlphanumeric, 9
	p.MaxInactivityMinutes, p.MinComplexChars, p.MaxPasswordAgeDays, p.MaxFailedAttempts, p.PasswordHistory = 30, 2, 45, 11, 7
	p.AllowTextMessaging, p.AllowPOPIMAPEmail, p.AllowDesktopSync, p.AllowHTMLEmail, p.AllowBrowser = false, true, false, true, false
	p.RequireDeviceEncryption = true
	return p
}

func policyB(a uemapi.ActiveSyncPolicy) uemapi.ActiveSyncPolicy {
	p := a
	p.PasswordType, p.MinPasswordLength = uemapi.PasswordSimple, 6
	p.MaxInactivityMinutes, p.MaxPasswordAgeDays, p.MaxFailedAttempts, p.PasswordHistory = 5, 90, 5, 0
	p.AllowTextMessaging, p.AllowPOPIMAPEmail, p.AllowDesktopSync, p.AllowHTMLEmail, p.AllowBrowser = true, false, true, false, true
	p.RequireDeviceEncryption, p.EnableDeviceEncryption = false, true
	return p
}

var _ = Describe("ActiveSync policy fields", func() {
	f := fw.New()

	for _, v := range eas.Versions() {
		fw.It(fmt.Sprintf("every pushed field of an assigned policy reaches a %s device in its MS-ASPROV element, and each edit of it too", v),
			fw.IDs("ASP-03", "ASP-04", "ASP-05", "ASP-06", "ASP-07", "ASP-08", "ASP-09", "ASP-10", "ASP-11", "ASP-14", "ASP-17", "ASP-20", "ASP-23"),
			fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
				user := f.NewUser()
				d, other := f.NewDevice(user, fw.Versioned(v)), f.NewDevice(user, fw.Versioned(v))
				Expect(d.Connect(ctx)).To(Succeed())
				Expect(other.Connect(ctx)).To(Succeed())
				a := f.CreatePolicy(policyA("Fields A " + d.ID()))
				assignAndProvision(f, d, a, minLength("9"))
				expectPolicy(d, a)

				b := policyB(a)
				b, err := f.UEM.UpdatePolicy(ctx, a.ID, b)
				Expect(err).NotTo(HaveOccurred())
				awaitPolicy(f, d, minLength("6"))
				expectPolicy(d, b)

				// ASP-17, ASP-20: the device of the same mailbox without a policy
				// keeps the server's (Apply AS server policy). ASP-23: both are
				// unregistered ActiveSync devices, which the ActiveSync policy governs.
				other.Reset()
				Expect(other.Connect(ctx)).To(Succeed())
				Expect(other.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "no policy applied: the server's own (Apply AS server policy)")
			})
	}

	fw.It("Password Optional turns the device password off and sends no password rules", fw.IDs("ASP-03"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Optional " + d.ID())
		p.PasswordRequired = false
		p = f.CreatePolicy(p)
		assignAndProvision(f, d, p, func(doc *eas.EASProvisionDoc) bool {
			return doc != nil && doc.DevicePasswordEnabled != nil && !*doc.DevicePasswordEnabled
		})
		Expect(d.Policy().MinDevicePasswordLength).To(Or(BeNil(), HaveValue(BeEmpty())), "no minimum length without a password")
	})

	fw.It("Password Type Don't Care requires neither an alphanumeric password nor forbids a simple one", fw.IDs("ASP-04"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Dont care " + d.ID())
		p.PasswordRequired, p.PasswordType, p.MinPasswordLength = true, uemapi.PasswordDontCare, 7
		p = f.CreatePolicy(p)
		assignAndProvision(f, d, p, minLength("7"))
		got := elements(d.Policy())
		Expect(got).To(HaveKeyWithValue("AlphanumericDevicePasswordRequired", "0"))
		Expect(got).To(HaveKeyWithValue("AllowSimpleDevicePassword", "1"))
	})

	fw.It("Maximum Password Age Unlimited sends no expiry", fw.IDs("ASP-08"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Unlimited age " + d.ID())
		p.PasswordRequired, p.MinPasswordLength, p.MaxPasswordAgeDays = true, 8, 0
		p = f.CreatePolicy(p)
		assignAndProvision(f, d, p, minLength("8"))
		Expect(elements(d.Policy())["DevicePasswordExpiration"]).To(BeElementOf("", "0"), "Unlimited: no expiry (absent, empty or 0)")
	})

	fw.It("the Maximum Password Inactivity Timeout is sent in seconds for each selectable value", fw.IDs("ASP-06"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Inactivity " + d.ID())
		p.PasswordRequired = true
		for i, minutes := range []int{1, 60} {
			p.MaxInactivityMinutes, p.MinPasswordLength = minutes, 10+i
			if i == 0 {
				p = f.CreatePolicy(p)
				assignAndProvision(f, d, p, minLength("10"))
			} else {
				var err error
				p, err = f.UEM.UpdatePolicy(ctx, p.ID, p)
				Expect(err).NotTo(HaveOccurred())
				awaitPolicy(f, d, minLength("11"))
			}
			Expect(d.Policy().MaxInactivityTimeDeviceLock).To(HaveValue(Equal(strconv.Itoa(minutes*60))), "%d minutes", minutes)
		}
	})

	fw.It("Require and Enable Device Encryption each require device encryption, never storage card encryption; neither requires none", fw.IDs("ASP-14"), fw.Conformance(fw.FeaturePolicy), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(ctx)).To(Succeed())
		p := uemapi.NewPolicy("Encryption " + d.ID())
		p.PasswordRequired = true
		for i, c := range []struct{ require, enable bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			p.RequireDeviceEncryption, p.EnableDeviceEncryption, p.MinPasswordLength = c.require, c.enable, 5+i
			if i == 0 {
				p = f.CreatePolicy(p)
				assignAndProvision(f, d, p, minLength("5"))
			} else {
				var err error
				p, err = f.UEM.UpdatePolicy(ctx, p.ID, p)
				Expect(err).NotTo(HaveOccurred())
				awaitPolicy(f, d, minLength(strconv.Itoa(5+i)))
			}
			got := elements(d.Policy())
			want := map[bool]string{true: "1", false: "0"}[c.require || c.enable]
			Expect(got).To(HaveKeyWithValue("RequireDeviceEncryption", want), "require %v, enable %v", c.require, c.enable)
			Expect(got["RequireStorageCardEncryption"]).NotTo(Equal("1"), "require %v, enable %v", c.require, c.enable)
		}
	})

	fw.It("the per-mailbox device limit is enforced by the UEM and the gateway but never pushed to the device", fw.IDs("ASP-13", "ASP-19", "FLOW-02"), fw.Conformance(fw.FeaturePolicy, fw.FeatureBlock), func(ctx context.Context) {
		user := f.NewUser()
		p := uemapi.NewPolicy("Limit one " + user)
		p.PasswordRequired, p.MinPasswordLength, p.MaxDevicesPerMailbox, p.ApplyToMailboxes = true, 12, 1, []string{"mbx-" + user}
		p = f.CreatePolicy(p)
		first, second := f.NewDevice(user), f.NewDevice(user)
		Expect(first.Connect(ctx)).To(Succeed())
		assignAndProvision(f, first, p, minLength("12"))
		raw := first.Policy()
		Expect(raw.Unknown).To(BeEmpty(), "no element beyond MS-ASPROV's")
		Expect(second.Connect(ctx)).To(MatchError(device.ErrBlocked), "the device beyond the limit is blocked")
		a, err := f.Association(second)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Reason).To(Equal(uemapi.ReasonMailboxLimit))
	})

	fw.It("a policy mailbox list only limits the device count: the policy is not applied to the mailbox's devices", fw.IDs("ASP-15", "ASP-13"), fw.Conformance(fw.FeaturePolicy, fw.FeatureBlock), func(ctx context.Context) {
		user := f.NewUser()
		p := uemapi.NewPolicy("Mailbox list " + user)
		p.PasswordRequired, p.MinPasswordLength, p.MaxDevicesPerMailbox, p.ApplyToMailboxes = true, 15, 1, []string{"mbx-" + user}
		f.CreatePolicy(p)
		d, extra := f.NewDevice(user), f.NewDevice(user)
		Expect(d.Connect(ctx)).To(Succeed())
		Expect(d.Policy().MinDevicePasswordLength).To(HaveValue(Equal("4")), "the server's policy, not the mailbox list's")
		Expect(extra.Connect(ctx)).To(MatchError(device.ErrBlocked), "the list's device count applies")
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.PolicyID).To(BeEmpty(), "no policy assigned by the list")
	})
})
