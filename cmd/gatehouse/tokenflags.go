package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Every command spells its admin token flag the same way: --admin-token-file
// FILE (a token on the command line shows in ps and in shell history), or an
// environment variable. The older --admin-token / --token spellings still
// work, deprecated, so that existing scripts do not break.

// tokenFile is a flag whose value is a file holding a token: setting it
// reads the file into dst.
type tokenFile struct {
	path string
	dst  *string
}

func (t *tokenFile) String() string { return t.path }
func (t *tokenFile) Type() string   { return "file" }
func (t *tokenFile) Set(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return fmt.Errorf("token file %s is empty", path)
	}
	t.path, *t.dst = path, tok
	return nil
}

// addAdminTokenFlags adds --admin-token-file (reading into dst) and the
// deprecated value flag oldName (e.g. admin-token) writing dst directly;
// env names the environment variable the help mentions.
func addAdminTokenFlags(f *pflag.FlagSet, dst *string, oldName, env, what string) {
	f.Var(&tokenFile{dst: dst}, "admin-token-file", fmt.Sprintf("file holding the %s (or set %s)", what, env))
	f.StringVar(dst, oldName, *dst, what+" (deprecated: use --admin-token-file or "+env+")")
	_ = f.MarkDeprecated(oldName, "use --admin-token-file or "+env+" (a token in argv shows in ps)")
}
