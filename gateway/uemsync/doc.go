// Package uemsync keeps the gateway's device cache in step with the UEM:
// the decision on a device's first access (with fail-open when the UEM is
// unreachable), initialisation from the UEM or the persistent list, the
// periodic connectivity check and the status it reports, reloading after
// an outage, the periodic resync, and the UEM's push notifications.
//
// The flows are the seeds' (FLOW, DC, FO items of SPEC-CHECKLIST.md); the
// choices the seeds leave open follow the DEF and INC decisions.
package uemsync
