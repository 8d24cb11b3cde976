package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// SettingsRequest is a Settings command request. A device typically sends
// DeviceInformation Set (required before Provision from 14.1) and
// UserInformation Get.
type SettingsRequest struct {
	XMLName           struct{}           `wbxml:"Settings:Settings"`
	Oof               *Oof               `wbxml:"Oof,omitempty"`
	DevicePassword    *wbxml.Node        `wbxml:"DevicePassword,omitempty"` // kept raw: it holds a password
	DeviceInformation *DeviceInformation `wbxml:"DeviceInformation,omitempty"`
	UserInformation   *UserInformation   `wbxml:"UserInformation,omitempty"`
	Unknown           []*wbxml.Node      `wbxml:",any"`
}

// SettingsResponse is a Settings command response; each part has its own Status.
type SettingsResponse struct {
	XMLName           struct{}           `wbxml:"Settings:Settings"`
	Status            int                `wbxml:"Status"`
	Oof               *Oof               `wbxml:"Oof,omitempty"`
	DevicePassword    *wbxml.Node        `wbxml:"DevicePassword,omitempty"`
	DeviceInformation *DeviceInformation `wbxml:"DeviceInformation,omitempty"`
	UserInformation   *UserInformation   `wbxml:"UserInformation,omitempty"`
	Unknown           []*wbxml.Node      `wbxml:",any"`
}

// DeviceInformation is settings:DeviceInformation: Set in requests (also
// inside Provision from 14.1), Status in responses.
type DeviceInformation struct {
	Status  int                   `wbxml:"Settings:Status,omitempty"`
	Set     *DeviceInformationSet `wbxml:"Settings:Set,omitempty"`
	Unknown []*wbxml.Node         `wbxml:",any"`
}

// DeviceInformationSet describes the device, in MS-ASCMD 2.2.3.160.1 order.
type DeviceInformationSet struct {
	Model             string        `wbxml:"Settings:Model,omitempty"`
	IMEI              string        `wbxml:"Settings:IMEI,omitempty"`
	FriendlyName      string        `wbxml:"Settings:FriendlyName,omitempty"`
	OS                string        `wbxml:"Settings:OS,omitempty"`
	OSLanguage        string        `wbxml:"Settings:OSLanguage,omitempty"`
	PhoneNumber       string        `wbxml:"Settings:PhoneNumber,omitempty"`
	UserAgent         string        `wbxml:"Settings:UserAgent,omitempty"`
	EnableOutboundSMS *bool         `wbxml:"Settings:EnableOutboundSMS,omitempty"`
	MobileOperator    string        `wbxml:"Settings:MobileOperator,omitempty"`
	Unknown           []*wbxml.Node `wbxml:",any"`
}

// UserInformation is an empty Get in requests and Status plus Get in responses.
type UserInformation struct {
	Status  int                 `wbxml:"Status,omitempty"`
	Get     *UserInformationGet `wbxml:"Get,omitempty"`
	Unknown []*wbxml.Node       `wbxml:",any"`
}

// UserInformationGet carries the user's addresses in a response (empty in requests).
type UserInformationGet struct {
	EmailAddresses *EmailAddresses `wbxml:"EmailAddresses,omitempty"`
	Unknown        []*wbxml.Node   `wbxml:",any"` // 14.1+ Accounts
}

// EmailAddresses lists the user's SMTP addresses.
type EmailAddresses struct {
	SmtpAddress        []string      `wbxml:"SmtpAddress"`
	PrimarySmtpAddress string        `wbxml:"PrimarySmtpAddress,omitempty"`
	Unknown            []*wbxml.Node `wbxml:",any"`
}

// Oof gets or sets out-of-office settings.
type Oof struct {
	Status  int           `wbxml:"Status,omitempty"`
	Get     *OofSettings  `wbxml:"Get,omitempty"`
	Set     *OofSettings  `wbxml:"Set,omitempty"`
	Unknown []*wbxml.Node `wbxml:",any"`
}

// OofSettings is an Oof Get (BodyType in requests; the settings in
// responses) or Set. OofState 0 is off, 1 on, 2 on for the time window.
type OofSettings struct {
	BodyType   string        `wbxml:"BodyType,omitempty"`
	OofState   *int          `wbxml:"OofState,omitempty"`
	StartTime  string        `wbxml:"StartTime,omitempty"`
	EndTime    string        `wbxml:"EndTime,omitempty"`
	OofMessage []OofMessage  `wbxml:"OofMessage"`
	Unknown    []*wbxml.Node `wbxml:",any"`
}

// OofMessage is the reply for one audience.
type OofMessage struct {
	AppliesToInternal        bool          `wbxml:"AppliesToInternal,empty"`
	AppliesToExternalKnown   bool          `wbxml:"AppliesToExternalKnown,empty"`
	AppliesToExternalUnknown bool          `wbxml:"AppliesToExternalUnknown,empty"`
	Enabled                  *bool         `wbxml:"Enabled,omitempty"`
	ReplyMessage             string        `wbxml:"ReplyMessage,omitempty"`
	BodyType                 string        `wbxml:"BodyType,omitempty"`
	Unknown                  []*wbxml.Node `wbxml:",any"`
}
