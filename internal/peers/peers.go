// Package peers finds the real protocol peers tests compare against
// (Debian's wbxml2xml, MIT Kerberos, dig, chromium, Docker...). A missing
// peer skips the test with a message naming the Debian package, so that a
// developer machine without it still runs the rest; with
// GATEHOUSE_REQUIRE_PEERS=1 (as .ci/run sets) it fails instead, so that CI
// never passes without having compared against the peer.
package peers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// EnvRequire names the variable that turns a missing peer into a failure.
const EnvRequire = "GATEHOUSE_REQUIRE_PEERS"

// sbinDirs are searched after PATH: a non-root PATH often lacks them, and
// the KDC tools (krb5kdc, kdb5_util, kadmin.local) live there.
var sbinDirs = []string{"/usr/sbin", "/sbin"}

// Require returns the path of the command-line tool, or skips the test
// (fails it under GATEHOUSE_REQUIRE_PEERS=1) naming debianPackage.
func Require(t testing.TB, tool, debianPackage string) string {
	t.Helper()
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	for _, dir := range sbinDirs {
		p := filepath.Join(dir, tool)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, debianPackage, tool+" not found on PATH")
	return ""
}

// RequireFile returns the first file matching the glob pattern (a plugin
// or data file a peer needs), or skips or fails as Require does.
func RequireFile(t testing.TB, pattern, debianPackage string) string {
	t.Helper()
	if m, err := filepath.Glob(pattern); err == nil && len(m) > 0 {
		return m[0]
	}
	Missing(t, debianPackage, "no file matches "+pattern)
	return ""
}

// Missing skips the test because a real peer is unavailable (why says
// what is missing), or fails it under GATEHOUSE_REQUIRE_PEERS=1.
func Missing(t testing.TB, debianPackage, why string) {
	t.Helper()
	msg := fmt.Sprintf("REAL PEER MISSING: %s: install the Debian package %s (apt-get install -y %s)", why, debianPackage, debianPackage)
	required, err := Required()
	switch {
	case err != nil:
		t.Fatal(msg + "; and " + err.Error())
	case required:
		t.Fatal(msg + " (" + EnvRequire + "=1: a missing peer fails)")
	default:
		t.Skip(msg + " (skipped; " + EnvRequire + "=1 makes this a failure, as in .ci/run)")
	}
}

// Required reports whether GATEHOUSE_REQUIRE_PEERS asks for missing peers
// to fail; a value that is not a boolean is an error, never a quiet skip.
func Required() (bool, error) {
	v, ok := os.LookupEnv(EnvRequire)
	if !ok || v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want 1 or 0", EnvRequire, v)
	}
	return b, nil
}
