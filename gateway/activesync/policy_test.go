package activesync

import (
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ASP-14: Enable Device Encryption turns on the device's encryption
// (MS-ASPROV RequireDeviceEncryption); it used to be sent as
// RequireStorageCardEncryption, so a device told to encrypt itself was
// only told to encrypt its storage card. Storage-card encryption belongs
// to the security policy (seed Table 23) and is never required by the
// ActiveSync policy.
func TestASP14EncryptionSettingsMapToDeviceEncryption(t *testing.T) {
	for _, tc := range []struct {
		name             string
		require, enable  bool
		wantDevice, card bool
	}{
		{"neither", false, false, false, false},
		{"require only", true, false, true, false},
		{"enable only", false, true, true, false},
		{"both", true, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := uemapi.NewPolicy("enc")
			p.RequireDeviceEncryption, p.EnableDeviceEncryption = tc.require, tc.enable
			d := ProvisionDoc(&p)
			if d.RequireDeviceEncryption == nil || *d.RequireDeviceEncryption != tc.wantDevice {
				t.Errorf("RequireDeviceEncryption = %v, want %v", deref(d.RequireDeviceEncryption), tc.wantDevice)
			}
			if d.RequireStorageCardEncryption != nil && *d.RequireStorageCardEncryption != tc.card {
				t.Errorf("RequireStorageCardEncryption = %v, want %v", *d.RequireStorageCardEncryption, tc.card)
			}
		})
	}
}

// ASP-03 to ASP-11: every pushed field of the UEM policy lands in its
// MS-ASPROV element, in the element's unit.
func TestASPFieldsMapToTheirElements(t *testing.T) {
	p := uemapi.NewPolicy("all")
	p.PasswordRequired, p.PasswordType, p.MinPasswordLength = true, uemapi.PasswordAlphanumeric, 9
	p.MaxInactivityMinutes, p.MinComplexChars, p.MaxPasswordAgeDays = 30, 2, 45
	p.MaxFailedAttempts, p.PasswordHistory = 11, 7
	p.AllowTextMessaging, p.AllowPOPIMAPEmail, p.AllowDesktopSync, p.AllowHTMLEmail, p.AllowBrowser = false, true, false, true, false
	p.MaxDevicesPerMailbox = 3
	d := ProvisionDoc(&p)
	str := func(s *string) string {
		if s == nil {
			return "<absent>"
		}
		return *s
	}
	for name, got := range map[string]string{
		"MinDevicePasswordLength":         str(d.MinDevicePasswordLength),
		"MaxInactivityTimeDeviceLock":     str(d.MaxInactivityTimeDeviceLock),
		"DevicePasswordExpiration":        str(d.DevicePasswordExpiration),
		"MaxDevicePasswordFailedAttempts": str(d.MaxDevicePasswordFailedAttempts),
	} {
		want := map[string]string{"MinDevicePasswordLength": "9", "MaxInactivityTimeDeviceLock": "1800",
			"DevicePasswordExpiration": "45", "MaxDevicePasswordFailedAttempts": "11"}[name]
		if got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	if deref(d.DevicePasswordEnabled) != true || deref(d.AlphanumericDevicePasswordRequired) != true || deref(d.AllowSimpleDevicePassword) != false {
		t.Errorf("password flags: enabled %v alphanumeric %v simple %v", deref(d.DevicePasswordEnabled), deref(d.AlphanumericDevicePasswordRequired), deref(d.AllowSimpleDevicePassword))
	}
	if d.MinDevicePasswordComplexCharacters == nil || *d.MinDevicePasswordComplexCharacters != 2 || d.DevicePasswordHistory == nil || *d.DevicePasswordHistory != 7 {
		t.Errorf("complex characters %v, history %v", d.MinDevicePasswordComplexCharacters, d.DevicePasswordHistory)
	}
	lock := []struct {
		name string
		got  *bool
		want bool
	}{{"AllowTextMessaging", d.AllowTextMessaging, false}, {"AllowPOPIMAPEmail", d.AllowPOPIMAPEmail, true},
		{"AllowDesktopSync", d.AllowDesktopSync, false}, {"AllowHTMLEmail", d.AllowHTMLEmail, true}, {"AllowBrowser", d.AllowBrowser, false}}
	for _, l := range lock {
		if deref(l.got) != l.want {
			t.Errorf("%s = %v, want %v", l.name, deref(l.got), l.want)
		}
	}
	var none eas.EASProvisionDoc
	if d.Unknown != nil || d.MaxAttachmentSize != none.MaxAttachmentSize {
		t.Errorf("unexpected elements: %+v", d)
	}
}

func deref(b *bool) bool { return b != nil && *b }
