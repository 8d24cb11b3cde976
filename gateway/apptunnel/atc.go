package apptunnel

import (
	"net"
	"path"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Route is where traffic control sends one request (ATC-10).
type Route struct {
	Action uemapi.TrafficAction // allow (direct), proxy or block
	Proxy  string               // host:port of the proxy for ActionProxy
	Rule   int                  // index of the matching rule, -1 for the default action
}

// Traffic is the traffic-control table in use: none, the server-side
// proxy, or ATC rules (ATC-01..12).
type Traffic struct {
	tc      uemapi.TrafficControl
	proxies map[string]string // name -> host:port
}

// MigrateToATC is the ATC-04 rule: a plain server-side proxy becomes the
// ATC proxy named "global", with default action Proxy via "global" and no
// rules. Other modes are returned unchanged.
func MigrateToATC(tc uemapi.TrafficControl) uemapi.TrafficControl {
	if tc.Mode != uemapi.TrafficProxy || tc.Proxy == nil {
		return tc
	}
	p := *tc.Proxy
	p.Name = "global"
	return uemapi.TrafficControl{Mode: uemapi.TrafficATC, Proxies: []uemapi.ProxyServer{p},
		DefaultAction: uemapi.ActionProxy, DefaultProxy: "global"}
}

// NewTraffic builds the table from a validated configuration; a plain
// proxy is used through its ATC-04 migration, which routes the same way.
func NewTraffic(tc uemapi.TrafficControl) *Traffic {
	tc = MigrateToATC(tc)
	t := &Traffic{tc: tc, proxies: map[string]string{}}
	for _, p := range tc.Proxies {
		t.proxies[p.Name] = net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
	}
	return t
}

// Active reports whether traffic control applies to a service whose
// Proxy/ATC box is ticked (ATS-15, ATC-06).
func (t *Traffic) Active() bool { return t != nil && t.tc.Mode == uemapi.TrafficATC }

// NeedsHost reports whether some rule looks at the destination host, so
// that a CONNECT must be peeked at before deciding (ATC-12).
func (t *Traffic) NeedsHost() bool {
	for _, r := range t.tc.Rules {
		if r.DestinationHost != "" {
			return true
		}
	}
	return false
}

// Decide applies the rules in order, first match wins (ATC-11); host is
// the destination host ("" when unknown), app the bundle id, platform
// the app's platform ("" when unknown). No match: the default action.
func (t *Traffic) Decide(host, app, platform string) Route {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for i, r := range t.tc.Rules {
		if r.DestinationCIDR != "" {
			continue // IP_ANY rules (ATC-13): IP tunnels are out of scope
		}
		if r.DestinationHost != "" && !hostRuleMatches(r.DestinationHost, host) {
			continue
		}
		if r.AppID != "" && !appMatches(r.AppID, app) {
			continue
		}
		if r.Platform != "" && !strings.EqualFold(r.Platform, platform) {
			continue
		}
		return t.route(r.Action, r.Proxy, i)
	}
	return t.route(t.tc.DefaultAction, t.tc.DefaultProxy, -1)
}

func (t *Traffic) route(a uemapi.TrafficAction, proxy string, rule int) Route {
	r := Route{Action: a, Rule: rule}
	if a == uemapi.ActionProxy {
		r.Proxy = t.proxies[proxy]
	}
	return r
}

// hostRuleMatches is one Destination Host (ATC-07): ANY_SHORT, ANY_IP, an
// exact host or a "*" suffix wildcard. An unknown host matches nothing.
func hostRuleMatches(rule, host string) bool {
	if host == "" {
		return false
	}
	isIP := net.ParseIP(strings.Trim(host, "[]")) != nil
	switch rule {
	case "ANY_SHORT":
		return !isIP && !strings.Contains(host, ".")
	case "ANY_IP":
		return isIP
	}
	return matchHost(strings.ToLower(rule), host)
}

// appMatches matches a bundle id with "*" wildcards (ATC-08).
func appMatches(pattern, app string) bool {
	if app == "" {
		return false
	}
	// path.Match's "*" stops at "/", which bundle ids never contain;
	// other metacharacters are escaped so only "*" is special.
	p := strings.NewReplacer(`\`, `\\`, "?", `\?`, "[", `\[`).Replace(pattern)
	ok, err := path.Match(p, app)
	return err == nil && ok
}
