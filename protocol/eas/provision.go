package eas

import "github.com/gatehouse-lab/gatehouse/protocol/wbxml"

// PolicyTypeWBXML is the PolicyType of protocol 12.0 and later (MS-ASPROV 2.2.2.43).
const PolicyTypeWBXML = "MS-EAS-Provisioning-WBXML"

// ProvisionRequest is a Provision command request, in either phase: the
// initial request carries a Policy with only PolicyType (and, from 14.1,
// settings:DeviceInformation); the acknowledgement adds PolicyKey and
// Status. A client confirming a wipe sends RemoteWipe or (16.1)
// AccountOnlyRemoteWipe with a Status instead of, or besides, Policies.
type ProvisionRequest struct {
	XMLName               struct{}           `wbxml:"Provision:Provision"`
	DeviceInformation     *DeviceInformation `wbxml:"Settings:DeviceInformation,omitempty"`
	Policies              []PolicyRequest    `wbxml:"Policies>Policy,omitempty"`
	RemoteWipe            *WipeAck           `wbxml:"RemoteWipe,omitempty"`
	AccountOnlyRemoteWipe *WipeAck           `wbxml:"AccountOnlyRemoteWipe,omitempty"`
	Unknown               []*wbxml.Node      `wbxml:",any"`
}

// PolicyRequest is a Policy in a request. In the acknowledgement PolicyKey
// comes before Status, as MS-ASPROV 2.2.2.41 requires.
type PolicyRequest struct {
	PolicyType string        `wbxml:"PolicyType"`
	PolicyKey  string        `wbxml:"PolicyKey,omitempty"`
	Status     int           `wbxml:"Status,omitempty"`
	Unknown    []*wbxml.Node `wbxml:",any"`
}

// WipeAck is a client's RemoteWipe or AccountOnlyRemoteWipe acknowledgement
// (Status 1 success, 2 failure).
type WipeAck struct {
	Status  int           `wbxml:"Provision:Status"`
	Unknown []*wbxml.Node `wbxml:",any"`
}

// ProvisionResponse is a Provision command response. RemoteWipe and
// AccountOnlyRemoteWipe (16.1) are empty elements telling the device to wipe.
type ProvisionResponse struct {
	XMLName               struct{}           `wbxml:"Provision:Provision"`
	DeviceInformation     *DeviceInformation `wbxml:"Settings:DeviceInformation,omitempty"`
	Status                int                `wbxml:"Status"`
	Policies              []PolicyResponse   `wbxml:"Policies>Policy,omitempty"`
	RemoteWipe            bool               `wbxml:"RemoteWipe,empty"`
	AccountOnlyRemoteWipe bool               `wbxml:"AccountOnlyRemoteWipe,empty"`
	Unknown               []*wbxml.Node      `wbxml:",any"`
}

// PolicyResponse is a Policy in a response, in ProvisionResponse.xsd order:
// PolicyType, Status, PolicyKey, Data. Data is present in the initial
// response only.
type PolicyResponse struct {
	PolicyType string        `wbxml:"PolicyType"`
	Status     int           `wbxml:"Status"`
	PolicyKey  string        `wbxml:"PolicyKey,omitempty"`
	Data       *PolicyData   `wbxml:"Data,omitempty"`
	Unknown    []*wbxml.Node `wbxml:",any"`
}

// PolicyData holds the policy document.
type PolicyData struct {
	EASProvisionDoc *EASProvisionDoc `wbxml:"EASProvisionDoc,omitempty"`
	Unknown         []*wbxml.Node    `wbxml:",any"`
}

// EASProvisionDoc holds every policy setting of MS-ASPROV 2.2.2.28, in
// code-page token order. nil means the server did not send the setting.
// Settings typed "...OrEmpty" are *string: a pointer to "" is the empty
// element servers send for "no limit".
type EASProvisionDoc struct {
	DevicePasswordEnabled                    *bool                           `wbxml:"DevicePasswordEnabled,omitempty"`
	AlphanumericDevicePasswordRequired       *bool                           `wbxml:"AlphanumericDevicePasswordRequired,omitempty"`
	RequireStorageCardEncryption             *bool                           `wbxml:"RequireStorageCardEncryption,omitempty"`
	PasswordRecoveryEnabled                  *bool                           `wbxml:"PasswordRecoveryEnabled,omitempty"`
	DocumentBrowseEnabled                    *bool                           `wbxml:"DocumentBrowseEnabled,omitempty"`
	AttachmentsEnabled                       *bool                           `wbxml:"AttachmentsEnabled,omitempty"`
	MinDevicePasswordLength                  *string                         `wbxml:"MinDevicePasswordLength,omitempty"`
	MaxInactivityTimeDeviceLock              *string                         `wbxml:"MaxInactivityTimeDeviceLock,omitempty"`
	MaxDevicePasswordFailedAttempts          *string                         `wbxml:"MaxDevicePasswordFailedAttempts,omitempty"`
	MaxAttachmentSize                        *string                         `wbxml:"MaxAttachmentSize,omitempty"`
	AllowSimpleDevicePassword                *bool                           `wbxml:"AllowSimpleDevicePassword,omitempty"`
	DevicePasswordExpiration                 *string                         `wbxml:"DevicePasswordExpiration,omitempty"`
	DevicePasswordHistory                    *int                            `wbxml:"DevicePasswordHistory,omitempty"`
	AllowStorageCard                         *bool                           `wbxml:"AllowStorageCard,omitempty"`
	AllowCamera                              *bool                           `wbxml:"AllowCamera,omitempty"`
	RequireDeviceEncryption                  *bool                           `wbxml:"RequireDeviceEncryption,omitempty"`
	AllowUnsignedApplications                *bool                           `wbxml:"AllowUnsignedApplications,omitempty"`
	AllowUnsignedInstallationPackages        *bool                           `wbxml:"AllowUnsignedInstallationPackages,omitempty"`
	MinDevicePasswordComplexCharacters       *int                            `wbxml:"MinDevicePasswordComplexCharacters,omitempty"`
	AllowWiFi                                *bool                           `wbxml:"AllowWiFi,omitempty"`
	AllowTextMessaging                       *bool                           `wbxml:"AllowTextMessaging,omitempty"`
	AllowPOPIMAPEmail                        *bool                           `wbxml:"AllowPOPIMAPEmail,omitempty"`
	AllowBluetooth                           *int                            `wbxml:"AllowBluetooth,omitempty"` // 0 off, 1 hands-free only, 2 on
	AllowIrDA                                *bool                           `wbxml:"AllowIrDA,omitempty"`
	RequireManualSyncWhenRoaming             *bool                           `wbxml:"RequireManualSyncWhenRoaming,omitempty"`
	AllowDesktopSync                         *bool                           `wbxml:"AllowDesktopSync,omitempty"`
	MaxCalendarAgeFilter                     *int                            `wbxml:"MaxCalendarAgeFilter,omitempty"`
	AllowHTMLEmail                           *bool                           `wbxml:"AllowHTMLEmail,omitempty"`
	MaxEmailAgeFilter                        *int                            `wbxml:"MaxEmailAgeFilter,omitempty"`
	MaxEmailBodyTruncationSize               *int                            `wbxml:"MaxEmailBodyTruncationSize,omitempty"`
	MaxEmailHTMLBodyTruncationSize           *int                            `wbxml:"MaxEmailHTMLBodyTruncationSize,omitempty"`
	RequireSignedSMIMEMessages               *bool                           `wbxml:"RequireSignedSMIMEMessages,omitempty"`
	RequireEncryptedSMIMEMessages            *bool                           `wbxml:"RequireEncryptedSMIMEMessages,omitempty"`
	RequireSignedSMIMEAlgorithm              *int                            `wbxml:"RequireSignedSMIMEAlgorithm,omitempty"`
	RequireEncryptionSMIMEAlgorithm          *int                            `wbxml:"RequireEncryptionSMIMEAlgorithm,omitempty"`
	AllowSMIMEEncryptionAlgorithmNegotiation *int                            `wbxml:"AllowSMIMEEncryptionAlgorithmNegotiation,omitempty"`
	AllowSMIMESoftCerts                      *bool                           `wbxml:"AllowSMIMESoftCerts,omitempty"`
	AllowBrowser                             *bool                           `wbxml:"AllowBrowser,omitempty"`
	AllowConsumerEmail                       *bool                           `wbxml:"AllowConsumerEmail,omitempty"`
	AllowRemoteDesktop                       *bool                           `wbxml:"AllowRemoteDesktop,omitempty"`
	AllowInternetSharing                     *bool                           `wbxml:"AllowInternetSharing,omitempty"`
	UnapprovedInROMApplicationList           *UnapprovedInROMApplicationList `wbxml:"UnapprovedInROMApplicationList,omitempty"`
	ApprovedApplicationList                  *ApprovedApplicationList        `wbxml:"ApprovedApplicationList,omitempty"`
	Unknown                                  []*wbxml.Node                   `wbxml:",any"`
}

// UnapprovedInROMApplicationList names in-ROM applications that may not run.
// An empty list is kept as an empty element.
type UnapprovedInROMApplicationList struct {
	ApplicationName []string      `wbxml:"ApplicationName"`
	Unknown         []*wbxml.Node `wbxml:",any"`
}

// ApprovedApplicationList lists the SHA-1 hashes of applications that may run.
type ApprovedApplicationList struct {
	Hash    []string      `wbxml:"Hash"`
	Unknown []*wbxml.Node `wbxml:",any"`
}
