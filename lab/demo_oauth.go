package lab

import (
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// oauth is the demo's OAuth step (docs/oauth.md): in a lab with an
// identity provider (Config.OAuth), user's iPhone signs in through the
// gateway's /proxyservice/oauth2 endpoints, as the Email+ key-value pairs
// say (OAU-05), and syncs with its bearer token.
func (d *demo) oauth(user string) error {
	l := d.l
	if l.IdP == nil {
		d.begin("skipped (this lab has no identity provider)")
		return nil
	}
	base := l.DeviceURL()
	d.begin("%s's iPhone signs in with OAuth through the gateway (%s/proxyservice/oauth2)", user, base)
	phone, err := l.NewDevice(device.Config{ID: "DEMOOAUTHIPHONE", User: user, Platform: device.IOS,
		OAuth: &device.OAuthConfig{AuthorityURL: base + "/proxyservice", Resource: base}})
	if err != nil {
		return err
	}
	if err := phone.Connect(d.ctx); err != nil {
		return err
	}
	signIns, _ := phone.OAuthCounts()
	d.say("   the gateway relayed the sign-in to the identity provider (%d sign-in) and took the phone's bearer token: %d mails synced, no password sent to Exchange",
		signIns, len(phone.Messages()))
	if a, err := l.UEM.FindAssociation(phone.ID(), user); err == nil {
		d.say("   the UEM shows it as %s's device: %s, %s", user, a.Status, a.SyncStatus)
	}
	return nil
}
