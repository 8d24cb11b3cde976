package mutation

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// skipDirs are left out of a copy of the source tree: what builds, runs
// and editors leave behind (dot directories, .git first, are skipped too).
var skipDirs = map[string]bool{"bin": true, "conformance-results": true, "gatehouse-results": true, "node_modules": true}

// CopyTree copies the source tree at root into dst (created), without
// .git or other dot directories and without build and run outputs, so a
// patch can be applied to the copy and built there.
func CopyTree(root, dst string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || skipDirs[d.Name()]) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil // sockets, symlinks: nothing a build needs
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Apply applies m's patch to the tree at dir with git apply (which works
// in a directory that is no repository too); with check it only checks
// that the patch applies cleanly, changing nothing.
func Apply(ctx context.Context, dir string, m Mutant, check bool) error {
	args := []string{"apply", "--whitespace=nowarn"}
	if check {
		args = append(args, "--check")
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	// A copy in a temporary directory is no repository; git must not look
	// for one above it and apply the paths relative to that.
	cmd.Env = append(os.Environ(), "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
	cmd.Stdin = bytes.NewReader(m.Patch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mutation: %s does not apply: %w: %s", m.File, err, strings.TrimSpace(string(out)))
	}
	return nil
}
