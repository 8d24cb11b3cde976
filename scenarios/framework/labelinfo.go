package framework

import "slices"

// LabelInfo describes one label of the suite, as data: docs/conformance.md
// is generated from it (what another gateway must implement to run the
// label's specs), and the negative control (NegativeControl) reads which
// labels mark decision specs.
type LabelInfo struct {
	Name string
	// Meta labels say how a spec runs (conformance, slow, ...); the others
	// are features: what it covers.
	Meta bool
	// Decision: the label's specs check a decision of the gateway (allow,
	// block, wipe, rewrite, route, report, refuse), which a proxy relaying
	// to Exchange does not make. Every such spec must fail against one.
	Decision bool
	Meaning  string
	// AdminAPI: the label's introspection specs read the gateway only
	// through its documented admin API, so they run against another
	// gateway given its admin URL (--gateway-admin-url).
	AdminAPI bool
	// Requires is what another gateway must implement to run the label's
	// specs in conformance mode.
	Requires string
}

// LabelTable describes every label the suite's specs may carry. A test
// (TestEveryLabelIsDescribed) fails when a spec carries a label missing
// here: a new label must say whether it marks decisions, and what a
// gateway needs for it.
var LabelTable = []LabelInfo{
	{Name: LabelConformance, Meta: true, Meaning: "black-box: runs against any gateway",
		Requires: "the UEM contract of docs/uem-api.md: reports, the device lists, signed notifications, the configuration from GET /api/v1/config; Exchange as the fake Exchange given by that configuration"},
	{Name: LabelDisruptive, Meta: true, Meaning: "restarts or kills the gateway",
		Requires: "a restart command (--restart-cmd); the crash spec also a kill and a start command (--kill-cmd, --start-cmd)"},
	{Name: LabelIntrospection, Meta: true, Meaning: "uses our gateway's admin API",
		Requires: "nothing: skipped against another gateway; those also labelled statistics, audit or alerts run against one that offers the admin API of docs/gateway.md at --gateway-admin-url (token in GATEHOUSE_GATEWAY_ADMIN_TOKEN), and say why they skip without it"},
	{Name: LabelSlow, Meta: true, Meaning: "out of the default run",
		Requires: "nothing more; select them with --label-filter"},
	{Name: LabelSecurity, Meta: true, Decision: true, Meaning: "checks a security property (docs/security.md); always with conformance",
		Requires: "the properties of docs/security.md: devices keyed on the authenticated, normalised user; 401 before anything is reported; notifications verified and applied once; no fail-open when the UEM answers 401/403; no 451 to http://; attachment control that fails closed"},

	{Name: FeatureAppTunnel, Decision: true, Meaning: "AppTunnel: app tunnels decided by the UEM, blocked, removed, fail-open",
		Requires: "the tunnel protocol of docs/apptunnel.md on --apptunnel-url; POST /api/v1/apptunnels/report on a tunnel's first access; apptunnel.changed notifications; the tunnel list at resync"},
	{Name: FeatureATC, Decision: true, Meaning: "traffic control: server-side proxy and ordered ATC rules",
		Requires: "the traffic_control section of the UEM configuration applied to services with proxy_atc (docs/apptunnel.md §5)"},
	{Name: FeatureContextHeaders, Decision: true, Meaning: "the X-MobileIron-* context headers on AppTunnel traffic",
		Requires: "the four context headers on HTTP tunnel requests and on CONNECT to a server-side proxy when context_headers is on (docs/apptunnel.md §5)"},
	{Name: FeatureFirstAccess, Decision: true, Meaning: "a device's first access: reported to the UEM, decided by it",
		Requires: "POST /api/v1/devices/report on a device's first access, applying the decision and the policy it returns"},
	{Name: FeatureBlock, Decision: true, Meaning: "blocked devices are refused",
		Requires: "HTTP 403 for 12.1 and Status 129 for 14.0+ to a blocked device, before anything reaches Exchange; blocks learnt from reports, device.state notifications and resync"},
	{Name: FeatureManual, Decision: true, Meaning: "the administrator's Block, Allow and Remove",
		Requires: "device.state notifications applied at once; a removed device's next access is a first access"},
	{Name: FeatureWipe, Decision: true, Meaning: "remote wipe and account-only wipe",
		Requires: "449 / Status 142 at the next request, RemoteWipe (or AccountOnlyRemoteWipe) in Provision, POST /api/v1/devices/wipe-ack"},
	{Name: FeatureFailOpen, Decision: true, Meaning: "new-device access while the UEM is unreachable",
		Requires: "new devices let in with the server's policy (Allow) or refused (Block) while the UEM is unreachable; a UEM answering 401/403 is not unreachable; the real state applied when it is back"},
	{Name: FeatureResync, Decision: true, Meaning: "the periodic resync with the UEM",
		Requires: "GET /api/v1/devices?filter=all at each resync, every 2 s or less (or a longer eventually-timeout)"},
	{Name: FeaturePolicy, Decision: true, Meaning: "ActiveSync policies from the UEM",
		Requires: "the Provision answer rewritten with the UEM's policy (assigned, apply_server_policy, remove_server_policy), every field mapped to its MS-ASPROV element per version; re-provisioning on policy.changed"},
	{Name: FeaturePersistence, Decision: true, Meaning: "the persistent device list across restarts",
		Requires: "the device list kept on disk; with the UEM down at start, a known-blocked device stays blocked; a restart command"},
	{Name: FeaturePurge, Decision: true, Meaning: "purging device-cache entries",
		Requires: "an admin API to purge entries (introspection: skipped against another gateway)"},
	{Name: FeatureRouting, Decision: true, Meaning: "ActiveSync services: Host routing, server lists, health checks, timeouts",
		Requires: "the services of the UEM configuration: routing by Host header, server lists with priority and round robin, dead/live rules, health checks and timeouts; extra Exchange servers, which the suite starts only when it runs the fakes"},
	{Name: FeatureRedirect, Decision: true, Meaning: "451 redirects from Exchange",
		Requires: "a 451 followed by the gateway itself (the device never sees it), remembered per device; never to an http:// location"},
	{Name: FeatureAttachments, Decision: true, Meaning: "email attachment control",
		Requires: "the attachment control of the UEM configuration: Encrypt for iOS native mail, Remove for other platforms, untouched for secure apps, the exclusion list; docs/attachment-format.md for the encrypted form"},
	{Name: FeatureDeviceAuth, Decision: true, Meaning: "device authentication with identity certificates",
		Requires: "TLS client certificates from the UEM's CA mapped to users, CRLs; skipped against another gateway (the suite cannot wire its CA into a gateway it does not start)"},
	{Name: FeatureKerberos, Decision: true, Meaning: "Kerberos constrained delegation, KDC discovery, KKDCP",
		Requires: "KCD to an Exchange accepting only Kerberos, KDC discovery through DNS, a KDC proxy; skipped against another gateway (the suite cannot wire its KDC and DNS into it)"},
	// Labels declared beside their specs' helpers (routing.go, transparency.go).
	{Name: FeatureTransparency, Meaning: "the gateway relays a command unchanged, both ways",
		Requires: "a relay that alters neither what the device sent (request line, body byte for byte, the headers that matter, credentials) nor Exchange's answer, except where the seeds say the gateway rewrites (Provision policy, attachments, blocked answers)"},
	{Name: FeatureTLS, Decision: true, Meaning: "TLS towards devices and towards ActiveSync servers",
		Requires: "the TLS settings of the UEM configuration: protocol floor, cipher suites and HSTS towards devices; strict TLS, trust store, host-name verification, SNI and the outgoing protocol floor towards servers"},
	{Name: FeatureEntry, Decision: true, Meaning: "the gateway's entry at the UEM: configuration pushes and their status",
		Requires: "the configuration fetched again (GET /api/v1/config) and applied on config.changed, invalid configurations refused, the entry's status as the UEM shows it"},
	{Name: FeatureOAuth, Decision: true, Meaning: "OAuth pass-through: sign-in through the gateway, bearer tokens, conditional access",
		Requires: "Enable Pass Through with OAuth: /proxyservice/oauth2/authorize and /token mapped to the destination IdP with the resource swap, bearer tokens validated and keyed on their user, Bearer challenges pointing at the gateway; skipped against another gateway (the suite cannot wire its IdP into it)"},
	{Name: FeatureIntegrated, Meaning: "integrated mode: the connector syncs Exchange's partnerships and Exchange enforces the UEM's decisions",
		Requires: "nothing of the gateway under test: local worlds only (the suite starts the connector, gateway/integrated)"},
	// Observability (observability.go): read back through the admin API only.
	{Name: FeatureStatistics, AdminAPI: true, Meaning: "per-device and global counters after known device traffic (STA-01..08)",
		Requires: "the statistics of docs/gateway.md over the admin API: GET /admin/v1/statistics/entry/{device}/{user} and /global/{device,system}, POST statistics/reset, PUT statistics/collection"},
	{Name: FeatureAudit, AdminAPI: true, Meaning: "the audit log's REQUEST and RESPONSE entries after device traffic (AUD-01..10)",
		Requires: "PUT /admin/v1/audit to switch the audit log on and GET /admin/v1/audit/entries?device= returning its lines in the seeds' syslog form (AUD-08)"},
	{Name: FeatureAlerts, AdminAPI: true, Meaning: "alerts raised by device traffic, seen in the alert viewer (ALR-01..06)",
		Requires: "GET /admin/v1/alerts?filter= (the alert viewer: date, id, device, user, service, description; a case-insensitive regex filter)"},
	{Name: FeatureMultiMailbox, Decision: true, Meaning: "several ActiveSync accounts on one device",
		Requires: "one record per (device, user); a device's security violation blocks every account on it, the same user's other devices unaffected"},
}

// LookupLabel returns the description of the label named name.
func LookupLabel(name string) (LabelInfo, bool) {
	i := slices.IndexFunc(LabelTable, func(l LabelInfo) bool { return l.Name == name })
	if i < 0 {
		return LabelInfo{}, false
	}
	return LabelTable[i], true
}

// DecisionLabels are the labels whose specs check a gateway's decisions.
func DecisionLabels() []string {
	var out []string
	for _, l := range LabelTable {
		if l.Decision {
			out = append(out, l.Name)
		}
	}
	return out
}
