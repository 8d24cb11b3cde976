// Package integrated is the integrated connector ("Integrated Sentry",
// checklist INT): it sits beside Exchange, not in the mail path. It reads
// Exchange's mailboxes and device partnerships through the management
// API (protocol/exmgmt), reports each partnership to the UEM (which
// learns the association and decides), and tells Exchange to allow,
// block or wipe through the mailbox's device id lists and
// Clear-MobileDevice, so that Exchange itself enforces the UEM's
// decisions. Its configuration comes from the UEM (uemapi.IntegratedConfig).
//
// Syncs: a full batched sync after start (resumed from the failed batch,
// INT-05), again every 7 days, after a failed differential and when
// Exchange's access rules changed (INT-06, INT-10); a differential of the
// changes since the last sync every 4 h by default (INT-07), refused on
// clock skew (INT-08). One sync runs at a time (INT-09). docs/integrated.md.
package integrated
