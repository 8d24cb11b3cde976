package activesync

import (
	"strconv"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ProvisionDoc maps a UEM ActiveSync policy to the MS-ASPROV document the
// device receives. UEM-only fields (the mailbox device limit, the mailbox
// list, the policy refresh interval, which MS-ASPROV has no element for)
// are never sent (ASP-13).
//
// Both encryption settings are about the device itself (ASP-14): Require
// Device Encryption and Enable Device Encryption each ask the device to
// encrypt, which MS-ASPROV 2.2.2.46 RequireDeviceEncryption says. Storage
// card encryption (2.2.2.47 RequireStorageCardEncryption) is a setting of
// the security policy, not of the ActiveSync policy (seed Table 23), so the
// UEM's ActiveSync policy never requires it.
func ProvisionDoc(p *uemapi.ActiveSyncPolicy) *eas.EASProvisionDoc {
	b := func(v bool) *bool { return &v }
	i := func(v int) *int { return &v }
	s := func(v int) *string { x := strconv.Itoa(v); return &x }
	d := &eas.EASProvisionDoc{
		DevicePasswordEnabled:              b(p.PasswordRequired),
		AlphanumericDevicePasswordRequired: b(p.PasswordType == uemapi.PasswordAlphanumeric),
		AllowSimpleDevicePassword:          b(p.PasswordType != uemapi.PasswordAlphanumeric),
		RequireDeviceEncryption:            b(p.RequireDeviceEncryption || p.EnableDeviceEncryption),
		RequireStorageCardEncryption:       b(false),
		AllowTextMessaging:                 b(p.AllowTextMessaging),
		AllowPOPIMAPEmail:                  b(p.AllowPOPIMAPEmail),
		AllowDesktopSync:                   b(p.AllowDesktopSync),
		AllowHTMLEmail:                     b(p.AllowHTMLEmail),
		AllowBrowser:                       b(p.AllowBrowser),
		AttachmentsEnabled:                 b(true),
	}
	if p.PasswordRequired {
		if p.MinPasswordLength > 0 {
			d.MinDevicePasswordLength = s(p.MinPasswordLength)
		}
		if p.MaxInactivityMinutes > 0 {
			d.MaxInactivityTimeDeviceLock = s(p.MaxInactivityMinutes * 60) // seconds on the wire
		}
		if p.PasswordType == uemapi.PasswordAlphanumeric {
			d.MinDevicePasswordComplexCharacters = i(p.MinComplexChars)
		}
		if p.MaxPasswordAgeDays > 0 {
			d.DevicePasswordExpiration = s(p.MaxPasswordAgeDays)
		}
		if p.MaxFailedAttempts > 0 {
			d.MaxDevicePasswordFailedAttempts = s(p.MaxFailedAttempts)
		}
		d.DevicePasswordHistory = i(p.PasswordHistory)
	}
	return d
}

// NoRestrictionsDoc is what a device gets under the Default ActiveSync
// Policy behaviour "Remove AS server policy" (PREF-09): a document that
// requires nothing.
func NoRestrictionsDoc() *eas.EASProvisionDoc {
	f, t := false, true
	return &eas.EASProvisionDoc{
		DevicePasswordEnabled: &f, AlphanumericDevicePasswordRequired: &f, RequireDeviceEncryption: &f,
		RequireStorageCardEncryption: &f, AllowSimpleDevicePassword: &t, AttachmentsEnabled: &t,
	}
}
