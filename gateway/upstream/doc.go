// Package upstream holds the gateway's ActiveSync services and their
// server pools: routing a device request to a service by its Host header
// (ASC-01, ASC-03), scheduling it on a server of that service (ASC-15),
// counting passive failures and running the background health check
// (ASC-11 to ASC-14, DEF-01), failing over to the next live server,
// applying the advanced timeouts (ASC-20 to ASC-23), following 451
// redirects (RDR-01 to RDR-04) and limiting the protocol version
// (ASC-08).
//
// One concern per file, after Caddy's reverse proxy:
//
//	config.go            configuration, options, validation at the edge
//	router.go            Router: Host routing, Update, the RoundTripper adapter
//	upstreams.go         Server: one server and its health state
//	selectionpolicies.go Priority and Round Robin
//	roundtrip.go         Service.RoundTrip: body replay, failover
//	timeouts.go          connect, socket and response timeouts and their counters
//	devicelistener.go    the device side: request timeout and write timeout counters
//	healthchecks.go      the background health check and the hc-* counters
//	redirect.go          451 redirect processing
//	version.go           Limit Protocol Version
//	status.go            Status snapshot and the EAS service diagnosis
//
// The device-facing handler calls a Router: either through Router as an
// http.RoundTripper in its httputil.ReverseProxy, or by pinning the
// service with WithService and calling Service.RoundTrip.
package upstream
