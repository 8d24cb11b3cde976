package loadgen

import (
	"strings"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// authModes are the keys of mix.auth.
var authModes = []string{"basic", "oauth"}

// oauthThrough is the OAuth configuration of a device signing in through
// the gateway at target, as the Email+ key-value pairs say (OAU-05):
// authority https://<SentryHostname>/proxyservice, resource
// https://<SentryHostname>.
func oauthThrough(target string) *device.OAuthConfig {
	base := strings.TrimSuffix(target, "/")
	return &device.OAuthConfig{AuthorityURL: base + "/proxyservice", Resource: base}
}
