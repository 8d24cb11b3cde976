package uem

import "strings"

// ExchangeAccount is one ActiveSync account the UEM's Exchange setting
// pushes to a user's devices, applied by label at the next device sync.
type ExchangeAccount struct {
	Label    string `json:"label"`
	UserName string `json:"user_name"`
	Email    string `json:"email"`
}

// Templates of the Exchange settings: the primary account, and the extra
// one pushed through the custom variables (MMB-07).
const (
	PrimaryUserTemplate = "$USERID$"
	PrimaryMailTemplate = "$EMAIL$"
	ExtraUserTemplate   = "$USER_CUSTOM1$"
	ExtraMailTemplate   = "$USER_CUSTOM2$"
)

// Expand substitutes a user's variables in a setting's template:
// $USERID$, $EMAIL$, and $USER_CUSTOM1$ / $USER_CUSTOM2$ from the LDAP
// extensionAttribute1 / extensionAttribute2 (MMB-07).
func Expand(template string, u User) string {
	return strings.NewReplacer("$USERID$", u.UPN, "$EMAIL$", u.Email, "$USER_CUSTOM1$", u.Custom1, "$USER_CUSTOM2$", u.Custom2).Replace(template)
}

// ExchangeAccounts are the accounts pushed to a user's devices: the
// primary one, and an extra one (another user's or a group mailbox) when
// both custom attributes are set (MMB-01, MMB-07). An extra account whose
// user does not exist in the UEM is still pushed; its device access is
// then decided as any unknown user's (MMB-05).
func (s *Server) ExchangeAccounts(userID string) ([]ExchangeAccount, error) {
	u, err := s.User(userID)
	if err != nil {
		return nil, err
	}
	out := []ExchangeAccount{{Label: "Exchange", UserName: Expand(PrimaryUserTemplate, u), Email: Expand(PrimaryMailTemplate, u)}}
	if u.Custom1 != "" && u.Custom2 != "" {
		out = append(out, ExchangeAccount{Label: "Exchange (additional)", UserName: Expand(ExtraUserTemplate, u), Email: Expand(ExtraMailTemplate, u)})
	}
	return out, nil
}
