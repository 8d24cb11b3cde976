// Package device is one simulated Exchange ActiveSync device. It runs the
// real lifecycle over HTTPS (Provision and acknowledgement, FolderSync,
// Sync, Ping, SendMail, attachment fetch with ItemOperations), reacts to
// what a gateway or server tells it (re-provision on 449/142/143/144,
// stop when blocked with 403/129, wipe itself on RemoteWipe) and records
// every exchange for assertions.
//
// A Device is small and starts no goroutine: the caller passes a shared
// *http.Client, and only a hanging Ping blocks the caller's goroutine.
// The load generator runs thousands of them; the scenarios run a few.
package device

import (
	"errors"
	"fmt"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// Platform is the device's operating system family.
type Platform string

// Platforms.
const (
	IOS     Platform = "iOS"
	Android Platform = "Android"
	Windows Platform = "Windows"
	Other   Platform = "Other"
)

// Class is the kind of mail client: the platform's native client, a
// secure (UEM-managed) app, or an unmanaged third-party app. A gateway's
// attachment control tells them apart by DeviceType and User-Agent.
type Class string

// Client classes.
const (
	Native      Class = "native"
	SecureApp   Class = "secure_app"
	UnsecureApp Class = "unsecured_app"
)

// Config describes one device. Zero fields take the defaults New names.
type Config struct {
	// ID is the EAS device id: 1-32 letters and digits (MS-ASHTTP's
	// 1*32 ALPHA/DIGIT for the plain query).
	ID       string
	User     string // what the device authenticates with (user name, UPN or email)
	Password string
	Email    string // From address for SendMail; default User
	Platform Platform
	Class    Class
	Version  eas.Version // default 14.1
	Language string      // BCP 47, default en-US
	Model    string      // default from the platform
	// Base64Query sends the base64 request line (as iOS and Outlook do)
	// instead of the plain one; 12.1 always uses the plain form.
	Base64Query bool
	// MaxRecords bounds the kept round-trip records (oldest dropped);
	// default 64. OnRoundTrip, when set, also sees every record.
	MaxRecords  int
	OnRoundTrip func(RoundTrip)
	// Host, when set, is the Host header the device sends: the name of a
	// gateway ActiveSync service (ASC-03) that is not the URL's host.
	Host string
	// OAuth, when set, signs in with OAuth and sends bearer tokens
	// instead of Basic credentials (oauth.go).
	OAuth *OAuthConfig
}

// Errors a device's commands return, for errors.Is.
var (
	// ErrBlocked: the gateway or server blocked the device (HTTP 403 or
	// Status 129). The device stops until told to try again.
	ErrBlocked = errors.New("device: blocked")
	// ErrWiped: the device received RemoteWipe, acknowledged it and
	// forgot its data.
	ErrWiped = errors.New("device: wiped")
	// ErrProvision: a command still asked for provisioning after the
	// device provisioned again.
	ErrProvision = errors.New("device: provisioning loop")
)

// StatusError is a command answered with an HTTP error or a failing
// global status the device does not handle itself.
type StatusError struct {
	Cmd        eas.Command
	HTTPStatus int
	Status     int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("device: %s answered HTTP %d, status %d", e.Cmd, e.HTTPStatus, e.Status)
}

func (c *Config) setDefaults() {
	if c.Platform == "" {
		c.Platform = IOS
	}
	if c.Class == "" {
		c.Class = Native
	}
	if c.Version == 0 {
		c.Version = eas.V141
	}
	if c.Language == "" {
		c.Language = "en-US"
	}
	if c.Email == "" {
		c.Email = c.User
	}
	if c.Model == "" {
		c.Model = map[Platform]string{IOS: "iPhone15,2", Android: "Pixel 8", Windows: "Surface Laptop"}[c.Platform]
		if c.Model == "" {
			c.Model = "Generic"
		}
	}
	if c.MaxRecords == 0 {
		c.MaxRecords = 64
	}
}

func (c *Config) validate() error {
	if n := len(c.ID); n == 0 || n > 32 {
		return fmt.Errorf("device: id %q must be 1-32 letters and digits", c.ID)
	}
	for i := 0; i < len(c.ID); i++ {
		b := c.ID[i]
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z') {
			return fmt.Errorf("device: id %q must be 1-32 letters and digits", c.ID)
		}
	}
	if c.User == "" {
		return errors.New("device: user is required")
	}
	if !c.Version.Valid() {
		return fmt.Errorf("device: unsupported protocol version %v", c.Version)
	}
	switch c.Platform {
	case IOS, Android, Windows, Other:
	default:
		return fmt.Errorf("device: unknown platform %q", c.Platform)
	}
	switch c.Class {
	case Native, SecureApp, UnsecureApp:
	default:
		return fmt.Errorf("device: unknown client class %q", c.Class)
	}
	return nil
}

// DeviceType is the DeviceType query value this device sends.
func (c *Config) DeviceType() string {
	switch c.Class {
	case SecureApp:
		switch c.Platform {
		case IOS:
			return "EmailPlusiOS"
		case Android:
			return "EmailPlusAndroid"
		}
		return "EmailPlus"
	case UnsecureApp:
		return "Outlook"
	}
	switch c.Platform {
	case IOS:
		return "iPhone"
	case Android:
		return "Android"
	case Windows:
		return "WindowsMail"
	}
	return "EASDevice"
}

// UserAgent is the User-Agent header this device sends.
func (c *Config) UserAgent() string {
	switch c.Class {
	case SecureApp:
		return "EmailPlus/3.20 " + string(c.Platform)
	case UnsecureApp:
		return "Outlook-" + string(c.Platform) + "/2.0"
	}
	switch c.Platform {
	case IOS:
		return "Apple-iPhone15C2/2101.78"
	case Android:
		return "Android-Mail/2024.10"
	case Windows:
		return "MSFT-WIN-3/10.0.22631"
	}
	return "gatehouse-device/1.0"
}

// OS is what the device reports as its operating system.
func (c *Config) OS() string {
	return map[Platform]string{IOS: "iOS 17.4", Android: "Android 14", Windows: "Windows 11"}[c.Platform]
}

// locale is the Windows LCID of the base64 query for the language.
func (c *Config) locale() uint16 {
	switch c.Language {
	case "fr-FR":
		return 0x040c
	case "de-DE":
		return 0x0407
	case "ja-JP":
		return 0x0411
	case "es-ES":
		return 0x0c0a
	}
	return 0x0409
}
