package exchange

import (
	"strconv"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// DefaultPolicy is the server's mailbox policy (Exchange's default
// mailbox policy with a 4-digit PIN required).
func DefaultPolicy() *eas.EASProvisionDoc {
	t, f := eas.Ptr(true), eas.Ptr(false)
	return &eas.EASProvisionDoc{
		DevicePasswordEnabled:                    t,
		AlphanumericDevicePasswordRequired:       f,
		RequireStorageCardEncryption:             f,
		PasswordRecoveryEnabled:                  f,
		AttachmentsEnabled:                       t,
		MinDevicePasswordLength:                  eas.Ptr("4"),
		MaxInactivityTimeDeviceLock:              eas.Ptr("900"),
		MaxDevicePasswordFailedAttempts:          eas.Ptr("8"),
		MaxAttachmentSize:                        eas.Ptr(""),
		AllowSimpleDevicePassword:                t,
		DevicePasswordExpiration:                 eas.Ptr(""),
		DevicePasswordHistory:                    eas.Ptr(0),
		AllowStorageCard:                         t,
		AllowCamera:                              t,
		RequireDeviceEncryption:                  f,
		AllowUnsignedApplications:                t,
		AllowUnsignedInstallationPackages:        t,
		MinDevicePasswordComplexCharacters:       eas.Ptr(1),
		AllowWiFi:                                t,
		AllowTextMessaging:                       t,
		AllowPOPIMAPEmail:                        t,
		AllowBluetooth:                           eas.Ptr(2),
		AllowIrDA:                                t,
		RequireManualSyncWhenRoaming:             f,
		AllowDesktopSync:                         t,
		MaxCalendarAgeFilter:                     eas.Ptr(0),
		AllowHTMLEmail:                           t,
		MaxEmailAgeFilter:                        eas.Ptr(0),
		MaxEmailBodyTruncationSize:               eas.Ptr(-1),
		MaxEmailHTMLBodyTruncationSize:           eas.Ptr(-1),
		RequireSignedSMIMEMessages:               f,
		RequireEncryptedSMIMEMessages:            f,
		RequireSignedSMIMEAlgorithm:              eas.Ptr(0),
		RequireEncryptionSMIMEAlgorithm:          eas.Ptr(0),
		AllowSMIMEEncryptionAlgorithmNegotiation: eas.Ptr(2),
		AllowSMIMESoftCerts:                      t,
		AllowBrowser:                             t,
		AllowConsumerEmail:                       t,
		AllowRemoteDesktop:                       t,
		AllowInternetSharing:                     t,
		UnapprovedInROMApplicationList:           &eas.UnapprovedInROMApplicationList{},
		ApprovedApplicationList:                  &eas.ApprovedApplicationList{},
	}
}

// Provision status values (MS-ASPROV 2.2.2.54.1 and 2.2.2.54.2).
const (
	provSuccess       = 1
	provProtocolError = 2
	policyUnknownType = 3
	policyWrongKey    = 5
)

// cmdProvision runs the two provisioning phases (MS-ASPROV 3.2.5.1) and
// delivers and records remote wipes.
func (s *Server) cmdProvision(rc *reqCtx) {
	var req eas.ProvisionRequest
	empty, ok := s.decode(rc, &req)
	if !ok {
		return
	}
	resp := eas.ProvisionResponse{Status: provSuccess}
	user, dev := rc.mb.user.Name, rc.deviceID()
	if req.DeviceInformation != nil {
		resp.DeviceInformation = &eas.DeviceInformation{Status: 1}
		s.recordDeviceInfo(user, dev, req.DeviceInformation.Set)
	}
	if ack := req.RemoteWipe; ack != nil || req.AccountOnlyRemoteWipe != nil {
		accountOnly := ack == nil
		if accountOnly {
			ack = req.AccountOnlyRemoteWipe
		}
		p, _ := s.devices.update(user, dev, func(p *Partnership) {
			p.WipeAcked, p.WipeAckStatus = s.now(), ack.Status
			switch {
			case ack.Status != 1:
				p.AccessState = AccessWipeFailed
			case accountOnly:
				p.AccessState = AccessAccountOnlyWiped
			default:
				p.AccessState = AccessWiped
			}
		})
		s.log.Info("eas: wipe acknowledged", "user", user, "device", dev, "status", ack.Status, "account_only", accountOnly)
		if p.AccessState == AccessWipeFailed {
			// MS-ASPROV 3.2.5.1.2.2: failure gets Status 2 and the directive again.
			resp.Status = provProtocolError
			resp.RemoteWipe, resp.AccountOnlyRemoteWipe = !accountOnly, accountOnly
		}
		s.writeWBXML(rc, &resp)
		return
	}
	switch st := rc.dev.AccessState; {
	case st == AccessAccountOnlyWipePending && rc.version() >= eas.V161:
		resp.AccountOnlyRemoteWipe = true
		s.writeWBXML(rc, &resp)
		return
	case wipePending(st) || wiped(st) || st == AccessWipeFailed:
		resp.RemoteWipe = true
		s.writeWBXML(rc, &resp)
		return
	}
	if empty || len(req.Policies) == 0 {
		resp.Status = provProtocolError
		s.writeWBXML(rc, &resp)
		return
	}
	pol := req.Policies[0]
	pr := eas.PolicyResponse{PolicyType: pol.PolicyType, Status: provSuccess}
	switch {
	case pol.PolicyType != eas.PolicyTypeWBXML:
		pr.Status = policyUnknownType
	case pol.PolicyKey == "": // phase 1: send the policy with a temporary key
		key := policyKey()
		s.devices.update(user, dev, func(p *Partnership) { p.pendingKey = key })
		pr.PolicyKey = strconv.FormatUint(uint64(key), 10)
		doc := s.cfg.Policy
		if doc == nil {
			doc = DefaultPolicy()
		}
		pr.Data = &eas.PolicyData{EASProvisionDoc: doc}
	default: // phase 2: the acknowledgement gets the final key
		got, err := strconv.ParseUint(pol.PolicyKey, 10, 32)
		final := policyKey()
		var matched bool
		s.devices.update(user, dev, func(p *Partnership) {
			if err == nil && p.pendingKey != 0 && uint32(got) == p.pendingKey {
				matched = true
				p.pendingKey, p.PolicyKey, p.Provisioned = 0, final, true
			}
		})
		if !matched {
			pr.Status = policyWrongKey
			break
		}
		pr.PolicyKey = strconv.FormatUint(uint64(final), 10)
		s.log.Info("eas: device provisioned", "user", user, "device", dev, "ack_status", pol.Status)
	}
	resp.Policies = []eas.PolicyResponse{pr}
	s.writeWBXML(rc, &resp)
}

func (s *Server) recordDeviceInfo(user, dev string, set *eas.DeviceInformationSet) {
	if set == nil {
		return
	}
	s.devices.update(user, dev, func(p *Partnership) {
		p.Model, p.FriendlyName, p.OS = set.Model, set.FriendlyName, set.OS
	})
}
