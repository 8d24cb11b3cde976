// Package apptunnel is the gateway's AppTunnel listener: apps reach
// intranet servers through HTTP proxy semantics over TLS with their
// identity certificate (absolute-form for HTTP services, CONNECT for
// HTTPS, TCP and CIFS_ services), as docs/apptunnel.md defines.
//
// A tunnel is one (user, app, device) record in the device cache, decided
// by the UEM on first access (FLOW-06), let in when the UEM cannot be
// asked (FLOW-07) and kept in step by notifications and resync (FLOW-12).
// Traffic control (ATC) picks direct, proxy or block per request.
package apptunnel
