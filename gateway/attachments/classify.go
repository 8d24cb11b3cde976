package attachments

import (
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// ClientClass is which of the UEM's three attachment-control dropdowns
// governs a device (ATT-02).
type ClientClass uint8

// Client classes.
const (
	// ClassOther is "Other Platforms (Including Android using unsecured
	// apps)": Android with its own or third-party mail apps, Windows, and
	// anything not recognised. It never applies to iOS devices.
	ClassOther ClientClass = iota
	// ClassIOSNative is "iOS using Native Email".
	ClassIOSNative
	// ClassSecureApp is "iOS and Android using Secure Email Apps"
	// (AppConnect-enabled mail apps).
	ClassSecureApp
)

func (c ClientClass) String() string {
	switch c {
	case ClassIOSNative:
		return "ios_native"
	case ClassSecureApp:
		return "secure_apps"
	}
	return "other_platforms"
}

// SecureAppTokens identify AppConnect-enabled (secure) email apps in the
// User-Agent or DeviceType, matched case-insensitively as substrings.
// Ivanti's Email+ identifies itself as "Email+" or "EmailPlus"; the other
// tokens catch AppConnect builds of other apps that add the vendor's name.
var SecureAppTokens = []string{"email+", "emailplus", "appconnect", "mobileiron", "ivanti"}

// Classify decides which client class a device belongs to from what it
// sends: the DeviceType request parameter, the User-Agent header and, when
// the device has sent Settings (or Provision) DeviceInformation, its OS and
// model. The rules, in order (docs/attachments.md):
//
//  1. A User-Agent or DeviceType carrying one of SecureAppTokens is a
//     secure (AppConnect) email app, on iOS or Android: ClassSecureApp.
//  2. An iOS device is ClassIOSNative. A device is iOS when its User-Agent
//     starts with "Apple-" (the native Mail app sends
//     "Apple-iPhone15C2/2104.100"), its DeviceType starts with iPhone, iPad
//     or iPod, or DeviceInformation's OS starts with "iOS" or "iPadOS" or its
//     Model starts with iPhone, iPad or iPod. Third-party iOS mail apps
//     fall here too: the "Other Platforms" dropdown never affects iOS
//     devices (ATT-02), and the seeds direct those apps to a separate
//     gateway without attachment control (ATT-25).
//  3. Everything else (Android, Windows, unknown) is ClassOther.
func Classify(deviceType, userAgent string, info *eas.DeviceInformation) ClientClass {
	ua, dt := strings.ToLower(userAgent), strings.ToLower(deviceType)
	for _, t := range SecureAppTokens {
		if strings.Contains(ua, t) || strings.Contains(dt, t) {
			return ClassSecureApp
		}
	}
	if IsIOS(deviceType, userAgent, info) {
		return ClassIOSNative
	}
	return ClassOther
}

// IsIOS reports whether the device is an iOS (or iPadOS) device, by rule 2
// of Classify.
func IsIOS(deviceType, userAgent string, info *eas.DeviceInformation) bool {
	if strings.HasPrefix(strings.ToLower(userAgent), "apple-") || appleModel(deviceType) {
		return true
	}
	if info != nil && info.Set != nil {
		os := strings.ToLower(info.Set.OS)
		if strings.HasPrefix(os, "ios") || strings.HasPrefix(os, "ipados") || appleModel(info.Set.Model) {
			return true
		}
	}
	return false
}

func appleModel(s string) bool {
	s = strings.ToLower(s)
	return strings.HasPrefix(s, "iphone") || strings.HasPrefix(s, "ipad") || strings.HasPrefix(s, "ipod")
}

// Language is the language the Remove replacement text is written in for
// this device: the DeviceInformation OSLanguage of iOS devices (ATT-06: only
// iOS devices get a translation), "" (United States English) for the rest.
func Language(deviceType, userAgent string, info *eas.DeviceInformation) string {
	if info == nil || info.Set == nil || !IsIOS(deviceType, userAgent, info) {
		return ""
	}
	return info.Set.OSLanguage
}
