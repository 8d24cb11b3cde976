// Package uemapi is the gateway–UEM contract of gatehouse: the JSON types
// exchanged between a gateway and its UEM, their validation rules, an HTTP
// client for the gateway-facing API and the signing rules of UEM → gateway
// notifications.
//
// The contract is versioned by URL prefix: every gateway-facing endpoint
// lives under [PathPrefix] ("/api/v1"). Fields may be added to a version;
// removing or changing the meaning of one needs a new version. The prose
// reference, with every endpoint, its authentication, request, response and
// errors, is docs/uem-api.md.
//
// The package holds no server: the fake UEM (fakes/uem) serves this
// contract, the gateway consumes it.
package uemapi

// APIVersion is the contract version served under PathPrefix.
const APIVersion = "v1"

// PathPrefix is the URL prefix of the gateway-facing API.
const PathPrefix = "/api/v1"

// Gateway-facing endpoint paths, relative to the UEM base URL.
const (
	PathConnectivity  = PathPrefix + "/connectivity"
	PathDeviceReport  = PathPrefix + "/devices/report"
	PathDevices       = PathPrefix + "/devices"
	PathLastSeen      = PathPrefix + "/devices/last-seen"
	PathWipeAck       = PathPrefix + "/devices/wipe-ack"
	PathAppTunnels    = PathPrefix + "/apptunnels"
	PathAppTunnelRep  = PathPrefix + "/apptunnels/report"
	PathConfig        = PathPrefix + "/config"
	PathAttachmentKey = PathPrefix + "/attachment-key"
)

// HeaderGatewayVersion carries the gateway's software version on every
// gateway → UEM request; the UEM shows it on the gateway entry (FLOW-15) and
// uses it to choose the attachment-key algorithm (ATT-08).
const HeaderGatewayVersion = "X-Gatehouse-Gateway-Version"

// MaxPageSize is the largest page of the device and app tunnel lists.
const MaxPageSize = 10000

// DefaultPageSize is the page size used when a request names none.
const DefaultPageSize = 1000

// MaxBatch is the largest number of items in one last-seen batch.
const MaxBatch = 10000

// MaxRequestBody bounds every request body on the gateway-facing API.
const MaxRequestBody = 4 << 20
