package uemapi

import (
	"strings"
	"time"
)

// DefaultPolicyName is the name of the policy that always exists (ASP-01).
const DefaultPolicyName = "Default ActiveSync Policy"

// DefaultPolicyID is the id of the Default ActiveSync Policy.
const DefaultPolicyID = "default"

// PolicyStatus is Active or Inactive (ASP-02).
type PolicyStatus string

// Policy statuses.
const (
	PolicyActive   PolicyStatus = "active"
	PolicyInactive PolicyStatus = "inactive"
)

// PasswordType (ASP-04).
type PasswordType string

// Password types.
const (
	PasswordSimple       PasswordType = "simple"
	PasswordAlphanumeric PasswordType = "alphanumeric"
	PasswordDontCare     PasswordType = "dont_care"
)

// Ranges of the ActiveSync policy fields. Where the seeds disagree the
// INC-03 decision applies; where they are silent the gatehouse decision is
// marked so in docs/uem-api.md.
const (
	MinPasswordLengthMin = 1  // INC-03
	MinPasswordLengthMax = 16 // INC-03
	ComplexCharsMin      = 1  // ASP-07
	ComplexCharsMax      = 4
	FailedAttemptsMin    = 4 // ASP-09, INC-03
	FailedAttemptsMax    = 16
	PasswordHistoryMin   = 0 // ASP-10
	PasswordHistoryMax   = 50
	PasswordAgeDaysMin   = 1 // gatehouse decision
	PasswordAgeDaysMax   = 730
	RefreshDaysMax       = 365 // gatehouse decision
	RefreshHoursMax      = 23
	MailboxDevicesMax    = 1000 // gatehouse decision; 0 = no limit
	PolicyNameMaxLen     = 128
	DescriptionMaxLen    = 1024
)

// InactivityTimeouts are the selectable Maximum Password Inactivity Timeout
// values in minutes (ASP-06; the list is a gatehouse decision, 0 = none).
var InactivityTimeouts = []int{0, 1, 2, 3, 4, 5, 10, 15, 30, 60}

// ActiveSyncPolicy is the UEM's ActiveSync policy (seed Table 25, ASP-01
// to ASP-15). The gateway maps it to an MS-ASPROV EASProvisionDoc; the
// mailbox device limit and the mailbox list are UEM-side only (ASP-13,
// ASP-15, ASP-19).
type ActiveSyncPolicy struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`   // required, unique, ≤ 128 chars (ASP-01)
	Status      PolicyStatus `json:"status"` // default active (ASP-02)
	Description string       `json:"description,omitempty"`
	// Version increases on every change (set by the UEM).
	Version int64 `json:"version"`

	// Password section.
	PasswordRequired  bool         `json:"password_required"`   // Mandatory / Optional, default Optional (ASP-03)
	PasswordType      PasswordType `json:"password_type"`       // default simple (ASP-04)
	MinPasswordLength int          `json:"min_password_length"` // 0 = no minimum, else 1-16, default 4 (ASP-05, INC-03)
	// MaxInactivityMinutes is one of InactivityTimeouts, default 15 (ASP-06).
	MaxInactivityMinutes int `json:"max_inactivity_minutes"`
	MinComplexChars      int `json:"min_complex_chars"` // 1-4, default 3 (ASP-07)
	// MaxPasswordAgeDays: 0 = Unlimited, else Limited to 1-730 days (ASP-08).
	MaxPasswordAgeDays int `json:"max_password_age_days"`
	MaxFailedAttempts  int `json:"max_failed_attempts"` // 4-16, default 8 (ASP-09)
	PasswordHistory    int `json:"password_history"`    // 0-50, default 0 (ASP-10)

	// Lockdown section, each default enabled (ASP-11).
	AllowTextMessaging bool `json:"allow_text_messaging"`
	AllowPOPIMAPEmail  bool `json:"allow_pop_imap_email"`
	AllowDesktopSync   bool `json:"allow_desktop_sync"`
	AllowHTMLEmail     bool `json:"allow_html_email"`
	AllowBrowser       bool `json:"allow_browser"`

	// Security section. Policy refresh interval: Limited: D days, H hours,
	// default 0/0 (ASP-12); RefreshUnlimited turns the limit off.
	RefreshUnlimited bool `json:"refresh_unlimited"`
	RefreshDays      int  `json:"refresh_days"`  // 0-365
	RefreshHours     int  `json:"refresh_hours"` // 0-23
	// MaxDevicesPerMailbox: "Per-Mailbox smartphone count exceeds" N; 0 =
	// off, else 1-1000. UEM-side only, never pushed (ASP-13).
	MaxDevicesPerMailbox int `json:"max_devices_per_mailbox"`

	// Data encryption, default off (ASP-14).
	RequireDeviceEncryption bool `json:"require_device_encryption"`
	EnableDeviceEncryption  bool `json:"enable_device_encryption"`

	// ApplyToMailboxes lists mailbox ids whose device count this policy
	// limits; not available on the default policy (ASP-15).
	ApplyToMailboxes []string `json:"apply_to_mailboxes,omitempty"`

	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// NewPolicy returns a policy with every field at its seed default.
func NewPolicy(name string) ActiveSyncPolicy {
	return ActiveSyncPolicy{
		Name:                 name,
		Status:               PolicyActive,
		PasswordType:         PasswordSimple,
		MinPasswordLength:    4,
		MaxInactivityMinutes: 15,
		MinComplexChars:      3,
		MaxFailedAttempts:    8,
		AllowTextMessaging:   true,
		AllowPOPIMAPEmail:    true,
		AllowDesktopSync:     true,
		AllowHTMLEmail:       true,
		AllowBrowser:         true,
	}
}

// DefaultPolicy returns the Default ActiveSync Policy at its defaults.
func DefaultPolicy() ActiveSyncPolicy {
	p := NewPolicy(DefaultPolicyName)
	p.ID = DefaultPolicyID
	return p
}

// IsDefault reports whether p is the Default ActiveSync Policy.
func (p *ActiveSyncPolicy) IsDefault() bool { return p.ID == DefaultPolicyID }

// Validate checks every field against its range and returns the first
// violation as an invalid_field *Error naming the field.
func (p *ActiveSyncPolicy) Validate() error {
	name := strings.TrimSpace(p.Name)
	switch {
	case name == "":
		return FieldError("name", "is required")
	case len(p.Name) > PolicyNameMaxLen:
		return FieldError("name", "longer than %d characters", PolicyNameMaxLen)
	case p.Status != PolicyActive && p.Status != PolicyInactive:
		return FieldError("status", "must be active or inactive")
	case len(p.Description) > DescriptionMaxLen:
		return FieldError("description", "longer than %d characters", DescriptionMaxLen)
	case p.PasswordType != PasswordSimple && p.PasswordType != PasswordAlphanumeric && p.PasswordType != PasswordDontCare:
		return FieldError("password_type", "must be simple, alphanumeric or dont_care")
	case p.MinPasswordLength != 0 && (p.MinPasswordLength < MinPasswordLengthMin || p.MinPasswordLength > MinPasswordLengthMax):
		return FieldError("min_password_length", "must be 0 (no minimum) or %d-%d", MinPasswordLengthMin, MinPasswordLengthMax)
	case !inList(p.MaxInactivityMinutes, InactivityTimeouts):
		return FieldError("max_inactivity_minutes", "must be one of %v", InactivityTimeouts)
	case p.MinComplexChars < ComplexCharsMin || p.MinComplexChars > ComplexCharsMax:
		return FieldError("min_complex_chars", "must be %d-%d", ComplexCharsMin, ComplexCharsMax)
	case p.MaxPasswordAgeDays != 0 && (p.MaxPasswordAgeDays < PasswordAgeDaysMin || p.MaxPasswordAgeDays > PasswordAgeDaysMax):
		return FieldError("max_password_age_days", "must be 0 (unlimited) or %d-%d", PasswordAgeDaysMin, PasswordAgeDaysMax)
	case p.MaxFailedAttempts < FailedAttemptsMin || p.MaxFailedAttempts > FailedAttemptsMax:
		return FieldError("max_failed_attempts", "must be %d-%d", FailedAttemptsMin, FailedAttemptsMax)
	case p.PasswordHistory < PasswordHistoryMin || p.PasswordHistory > PasswordHistoryMax:
		return FieldError("password_history", "must be %d-%d", PasswordHistoryMin, PasswordHistoryMax)
	case p.RefreshDays < 0 || p.RefreshDays > RefreshDaysMax:
		return FieldError("refresh_days", "must be 0-%d", RefreshDaysMax)
	case p.RefreshHours < 0 || p.RefreshHours > RefreshHoursMax:
		return FieldError("refresh_hours", "must be 0-%d", RefreshHoursMax)
	case p.MaxDevicesPerMailbox < 0 || p.MaxDevicesPerMailbox > MailboxDevicesMax:
		return FieldError("max_devices_per_mailbox", "must be 0 (off) or 1-%d", MailboxDevicesMax)
	case p.IsDefault() && len(p.ApplyToMailboxes) > 0:
		return FieldError("apply_to_mailboxes", "not available on the default policy")
	}
	for i, m := range p.ApplyToMailboxes {
		if strings.TrimSpace(m) == "" {
			return FieldError(indexed("apply_to_mailboxes", i), "is empty")
		}
	}
	return nil
}

func inList(v int, list []int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
