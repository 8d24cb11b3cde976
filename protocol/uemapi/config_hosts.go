package uemapi

import (
	"net"
	"strconv"
	"strings"
)

// validateHostList checks "host[:port];…". With portRequired every entry
// needs a port; strictHost restricts names to letters, digits, hyphens
// and dots (ATS-07).
func validateHostList(f, list string, portRequired, allowEmpty bool) error {
	if list == "" {
		if allowEmpty {
			return nil
		}
		return FieldError(f, "is required")
	}
	for i, e := range strings.Split(list, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			return FieldError(f, "entry %d is empty", i+1)
		}
		host, port := e, ""
		if h, p, err := net.SplitHostPort(e); err == nil {
			host, port = h, p
		} else if strings.Count(e, ":") == 1 {
			return FieldError(f, "entry %q: bad port", e)
		}
		if port == "" && portRequired {
			return FieldError(f, "entry %q needs a port", e)
		}
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 {
				return FieldError(f, "entry %q: port must be 1-65535", e)
			}
		}
		if !validHost(host) {
			return FieldError(f, "entry %q: host may contain only letters, digits, hyphens and dots, starting with a letter or digit", e)
		}
	}
	return nil
}

// validHost accepts an IP address or a DNS name whose labels hold letters,
// digits and hyphens and start with a letter or digit (ATS-07).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || !isAlnum(label[0]) {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ";") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func inStrings(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func indexed(f string, i int) string { return f + "[" + strconv.Itoa(i) + "]" }
