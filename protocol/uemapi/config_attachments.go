package uemapi

import (
	"strings"
)

// AttachmentOption is an attachment control option (ATT-03).
type AttachmentOption string

// Attachment options.
const (
	AttachRemove      AttachmentOption = "remove"
	AttachEncrypt     AttachmentOption = "encrypt" // Open Only with Docs@Work and Protect with Encryption
	AttachDeliverAsIs AttachmentOption = "deliver_as_is"
	AttachSecureApp   AttachmentOption = "secure_email_app"
)

// AttachmentControl is email attachment control (ATT-01 to ATT-13).
type AttachmentControl struct {
	Enabled        bool             `json:"enabled"` // default off; needs ActiveSync (ATT-01)
	IOSNative      AttachmentOption `json:"ios_native"`
	SecureApps     AttachmentOption `json:"secure_apps"`
	OtherPlatforms AttachmentOption `json:"other_platforms"`
	// ExclusionList: file extensions; empty means DefaultExclusionList (ATT-12).
	ExclusionList []string `json:"exclusion_list,omitempty"`
	// WorkDomains are the mail domains whose recipients get encrypted
	// attachments as they are; anyone else gets them decrypted (ATT-14).
	WorkDomains []string `json:"work_domains,omitempty"`
}

// DefaultExclusionList is the default file name exclusion list (ATT-12,
// INC-04: the 16 extensions of the text).
var DefaultExclusionList = []string{"txt", "html", "htm", "jpg", "jpeg", "gif", "png", "eml", "rpms", "rpmsg", "bmp", "tiff", "tif", "sdtid", "log", "ics"}

// attachmentSupport is the support matrix of seed Table 8 (ATT-04).
var attachmentSupport = map[string]map[AttachmentOption]bool{
	"ios_native":      {AttachRemove: true, AttachEncrypt: true, AttachDeliverAsIs: true},
	"secure_apps":     {AttachRemove: true, AttachSecureApp: true},
	"other_platforms": {AttachRemove: true, AttachDeliverAsIs: true},
}

func (c *GatewayConfig) validateAttachments() error {
	a := &c.AttachmentControl
	const f = "attachment_control"
	if !a.Enabled {
		return nil
	}
	if !c.ActiveSync.Enabled {
		return FieldError(f+".enabled", "attachment control needs ActiveSync enabled")
	}
	for _, o := range []struct {
		name string
		opt  AttachmentOption
	}{{"ios_native", a.IOSNative}, {"secure_apps", a.SecureApps}, {"other_platforms", a.OtherPlatforms}} {
		switch o.opt {
		case AttachRemove, AttachEncrypt, AttachDeliverAsIs, AttachSecureApp:
		default:
			return FieldError(f+"."+o.name, "must be remove, encrypt, deliver_as_is or secure_email_app")
		}
		if !attachmentSupport[o.name][o.opt] {
			return FieldError(f+"."+o.name, "option %s is not supported for this platform", o.opt)
		}
	}
	for i, ext := range a.ExclusionList {
		if ext == "" || strings.ContainsAny(ext, ", ./\\") {
			return FieldError(indexed(f+".exclusion_list", i), "must be a bare file extension")
		}
	}
	return nil
}
