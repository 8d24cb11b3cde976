package apptunnel

import (
	"net/http"
)

// RefusalHeader carries the reason of a refusal (docs/apptunnel.md §3).
const RefusalHeader = "X-Gatehouse-Refusal"

// Reason is one documented refusal reason.
type Reason string

// The refusal reasons, each with its status (docs/apptunnel.md §3).
const (
	ReasonMalformed         Reason = "malformed-request"
	ReasonAppIDMissing      Reason = "app-id-missing"
	ReasonDeviceUUIDMissing Reason = "device-uuid-missing"
	ReasonNoCertificate     Reason = "no-certificate"
	ReasonUntrusted         Reason = "untrusted-certificate"
	ReasonAuthUnsupported   Reason = "device-auth-unsupported"
	// ReasonNegotiate and ReasonTicketRefused answer Kerberos device
	// authentication (ATS-17) with Proxy-Authenticate: Negotiate.
	ReasonNegotiate       Reason = "negotiate-required"
	ReasonTicketRefused   Reason = "ticket-refused"
	ReasonUnknownService  Reason = "unknown-service"
	ReasonIPTunnel        Reason = "ip-tunnel-unsupported"
	ReasonNotInServerList Reason = "not-in-server-list"
	ReasonPortNotAllowed  Reason = "port-not-allowed"
	ReasonOutsideWildcard Reason = "outside-wildcard"
	ReasonATCBlocked      Reason = "atc-blocked"
	ReasonTunnelBlocked   Reason = "tunnel-blocked"
	ReasonDeviceBlocked   Reason = "device-blocked"
	ReasonDisabled        Reason = "apptunnel-disabled"
	ReasonUpstream        Reason = "upstream-unreachable"
	ReasonProxyRefused    Reason = "proxy-refused"
	ReasonKerberos        Reason = "kerberos-failed"
	// ReasonOversized is counted, never sent: net/http answers 431 itself.
	ReasonOversized Reason = "oversized"
)

// Reasons lists every reason, for metrics that start at zero.
var Reasons = []Reason{ReasonMalformed, ReasonAppIDMissing, ReasonDeviceUUIDMissing, ReasonNoCertificate,
	ReasonUntrusted, ReasonAuthUnsupported, ReasonUnknownService, ReasonIPTunnel, ReasonNotInServerList,
	ReasonPortNotAllowed, ReasonOutsideWildcard, ReasonATCBlocked, ReasonTunnelBlocked, ReasonDeviceBlocked,
	ReasonDisabled, ReasonUpstream, ReasonProxyRefused, ReasonKerberos, ReasonOversized, ReasonNegotiate, ReasonTicketRefused}

// Status is the HTTP status a reason is answered with.
func (r Reason) Status() int {
	switch r {
	case ReasonMalformed, ReasonAppIDMissing, ReasonDeviceUUIDMissing:
		return http.StatusBadRequest
	case ReasonNoCertificate, ReasonUntrusted, ReasonAuthUnsupported, ReasonNegotiate, ReasonTicketRefused:
		return http.StatusProxyAuthRequired
	case ReasonUpstream, ReasonProxyRefused, ReasonKerberos:
		return http.StatusBadGateway
	case ReasonOversized:
		return http.StatusRequestHeaderFieldsTooLarge
	}
	return http.StatusForbidden
}

// refusal is an error that ends a request with a documented reason.
type refusal struct {
	reason Reason
	detail string // for the log only, never sent
}

func (r *refusal) Error() string { return string(r.reason) + ": " + r.detail }

func refuse(reason Reason, detail string) *refusal { return &refusal{reason: reason, detail: detail} }

// writeRefusal answers a refusal on a request not yet answered.
func writeRefusal(w http.ResponseWriter, r Reason) {
	h := w.Header()
	h.Set(RefusalHeader, string(r))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Connection", "close")
	if r == ReasonNegotiate || r == ReasonTicketRefused {
		h.Set("Proxy-Authenticate", "Negotiate") // RFC 4559: ask for a (new) ticket
	}
	w.WriteHeader(r.Status())
	_, _ = w.Write([]byte("apptunnel: " + string(r) + "\n"))
}
