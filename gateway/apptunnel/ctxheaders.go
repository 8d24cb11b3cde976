package apptunnel

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// The context headers (CTX-02).
const (
	CtxDeviceUUID = "X-MobileIron-DEVICE-UUID"
	CtxUserUPN    = "X-MobileIron-USER-UPN"
	CtxUserDN     = "X-MobileIron-USER-DN"
	CtxUserCert   = "X-MobileIron-USER-CERT"
)

// stripTunnelHeaders removes the tunnel protocol's headers and any
// context header the app sent, so that none reaches a server and an app
// cannot forge the gateway's.
func stripTunnelHeaders(h http.Header) {
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-gatehouse-") || strings.HasPrefix(lk, "x-mobileiron-") {
			delete(h, k)
		}
	}
}

// addContextHeaders sets the four context headers (CTX-02): the USER-DN
// only when the mapping gave one, the certificate as base64 DER on one
// line, without the PEM armour.
func addContextHeaders(h http.Header, c *call) {
	h.Set(CtxDeviceUUID, c.uuid)
	if c.id == nil {
		return
	}
	h.Set(CtxUserUPN, c.id.UPN)
	if c.id.DN != "" {
		h.Set(CtxUserDN, c.id.DN)
	}
	if c.id.Cert != nil {
		h.Set(CtxUserCert, base64.StdEncoding.EncodeToString(c.id.Cert.Raw))
	}
}
