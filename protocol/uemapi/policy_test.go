package uemapi

import (
	"errors"
	"testing"
)

func TestPolicyDefaults_ASP(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		id string
		ok bool
	}{
		{"ASP-01", p.Name == "Default ActiveSync Policy" && p.IsDefault()},
		{"ASP-02", p.Status == PolicyActive},
		{"ASP-03", !p.PasswordRequired},
		{"ASP-04", p.PasswordType == PasswordSimple},
		{"ASP-05", p.MinPasswordLength == 4},
		{"ASP-06", p.MaxInactivityMinutes == 15},
		{"ASP-07", p.MinComplexChars == 3},
		{"ASP-08", p.MaxPasswordAgeDays == 0},
		{"ASP-09", p.MaxFailedAttempts == 8},
		{"ASP-10", p.PasswordHistory == 0},
		{"ASP-11", p.AllowTextMessaging && p.AllowPOPIMAPEmail && p.AllowDesktopSync && p.AllowHTMLEmail && p.AllowBrowser},
		{"ASP-12", !p.RefreshUnlimited && p.RefreshDays == 0 && p.RefreshHours == 0},
		{"ASP-14", !p.RequireDeviceEncryption && !p.EnableDeviceEncryption},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: default not as the seed says: %+v", c.id, p)
		}
	}
}

func TestPolicyValidation(t *testing.T) {
	cases := []struct {
		id    string
		mut   func(*ActiveSyncPolicy)
		field string // "" = valid
	}{
		{"ASP-01", func(p *ActiveSyncPolicy) { p.Name = "" }, "name"},
		{"ASP-01", func(p *ActiveSyncPolicy) { p.Name = "   " }, "name"},
		{"ASP-02", func(p *ActiveSyncPolicy) { p.Status = "paused" }, "status"},
		{"ASP-02", func(p *ActiveSyncPolicy) { p.Status = PolicyInactive }, ""},
		{"ASP-04", func(p *ActiveSyncPolicy) { p.PasswordType = PasswordDontCare }, ""},
		{"ASP-04", func(p *ActiveSyncPolicy) { p.PasswordType = "emoji" }, "password_type"},
		{"ASP-05", func(p *ActiveSyncPolicy) { p.MinPasswordLength = 0 }, ""},
		{"ASP-05", func(p *ActiveSyncPolicy) { p.MinPasswordLength = 1 }, ""},
		{"ASP-05", func(p *ActiveSyncPolicy) { p.MinPasswordLength = 16 }, ""},
		{"ASP-05", func(p *ActiveSyncPolicy) { p.MinPasswordLength = 17 }, "min_password_length"},
		{"ASP-05", func(p *ActiveSyncPolicy) { p.MinPasswordLength = -1 }, "min_password_length"},
		{"ASP-06", func(p *ActiveSyncPolicy) { p.MaxInactivityMinutes = 60 }, ""},
		{"ASP-06", func(p *ActiveSyncPolicy) { p.MaxInactivityMinutes = 0 }, ""},
		{"ASP-06", func(p *ActiveSyncPolicy) { p.MaxInactivityMinutes = 7 }, "max_inactivity_minutes"},
		{"ASP-07", func(p *ActiveSyncPolicy) { p.MinComplexChars = 1 }, ""},
		{"ASP-07", func(p *ActiveSyncPolicy) { p.MinComplexChars = 4 }, ""},
		{"ASP-07", func(p *ActiveSyncPolicy) { p.MinComplexChars = 0 }, "min_complex_chars"},
		{"ASP-07", func(p *ActiveSyncPolicy) { p.MinComplexChars = 5 }, "min_complex_chars"},
		{"ASP-08", func(p *ActiveSyncPolicy) { p.MaxPasswordAgeDays = 1 }, ""},
		{"ASP-08", func(p *ActiveSyncPolicy) { p.MaxPasswordAgeDays = 730 }, ""},
		{"ASP-08", func(p *ActiveSyncPolicy) { p.MaxPasswordAgeDays = 731 }, "max_password_age_days"},
		{"ASP-08", func(p *ActiveSyncPolicy) { p.MaxPasswordAgeDays = -1 }, "max_password_age_days"},
		{"ASP-09", func(p *ActiveSyncPolicy) { p.MaxFailedAttempts = 4 }, ""},
		{"ASP-09", func(p *ActiveSyncPolicy) { p.MaxFailedAttempts = 16 }, ""},
		{"ASP-09", func(p *ActiveSyncPolicy) { p.MaxFailedAttempts = 3 }, "max_failed_attempts"},
		{"ASP-09", func(p *ActiveSyncPolicy) { p.MaxFailedAttempts = 17 }, "max_failed_attempts"},
		{"ASP-10", func(p *ActiveSyncPolicy) { p.PasswordHistory = 50 }, ""},
		{"ASP-10", func(p *ActiveSyncPolicy) { p.PasswordHistory = 51 }, "password_history"},
		{"ASP-10", func(p *ActiveSyncPolicy) { p.PasswordHistory = -1 }, "password_history"},
		{"ASP-12", func(p *ActiveSyncPolicy) { p.RefreshDays, p.RefreshHours = 365, 23 }, ""},
		{"ASP-12", func(p *ActiveSyncPolicy) { p.RefreshDays = 366 }, "refresh_days"},
		{"ASP-12", func(p *ActiveSyncPolicy) { p.RefreshHours = 24 }, "refresh_hours"},
		{"ASP-12", func(p *ActiveSyncPolicy) { p.RefreshHours = -1 }, "refresh_hours"},
		{"ASP-13", func(p *ActiveSyncPolicy) { p.MaxDevicesPerMailbox = 1 }, ""},
		{"ASP-13", func(p *ActiveSyncPolicy) { p.MaxDevicesPerMailbox = 1000 }, ""},
		{"ASP-13", func(p *ActiveSyncPolicy) { p.MaxDevicesPerMailbox = 1001 }, "max_devices_per_mailbox"},
		{"ASP-13", func(p *ActiveSyncPolicy) { p.MaxDevicesPerMailbox = -1 }, "max_devices_per_mailbox"},
		{"ASP-15", func(p *ActiveSyncPolicy) { p.ApplyToMailboxes = []string{"mbx-1"} }, ""},
		{"ASP-15", func(p *ActiveSyncPolicy) { p.ApplyToMailboxes = []string{"mbx-1", " "} }, "apply_to_mailboxes[1]"},
		{"ASP-15", func(p *ActiveSyncPolicy) { p.ID = DefaultPolicyID; p.ApplyToMailboxes = []string{"mbx-1"} }, "apply_to_mailboxes"},
	}
	for _, c := range cases {
		p := NewPolicy("Sales")
		c.mut(&p)
		err := p.Validate()
		checkField(t, c.id, err, c.field)
	}
}

func checkField(t *testing.T, id string, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Errorf("%s: unexpected error %v", id, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidField || e.Field != field {
		t.Errorf("%s: got %v, want invalid_field on %q", id, err, field)
	}
}
