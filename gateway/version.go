package gateway

import "runtime/debug"

// softwareVersion is the version the gateway reports to the UEM (FLOW-15):
// the configured one, else the module's build version ("devel" for a
// build from a work tree).
func softwareVersion(configured string) string {
	if configured != "" {
		return configured
	}
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "gatehouse/" + v
}
