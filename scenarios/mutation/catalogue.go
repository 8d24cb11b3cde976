// Package mutation is the mutation catalogue of the bundled gateway and
// its runner. A mutant is a small unified-diff patch that puts one
// realistic defect into non-test gateway/ or protocol/ code
// (scenarios/mutants/NN-name.patch, with a header saying what it breaks);
// the runner applies one at a time to a copy of the source tree and runs
// the conformance suite against it, in-process or as an external gateway,
// and records which spec caught it (docs/conformance.md, "Mutation
// score"). A defect no spec catches is a spec missing, or a written
// reason why none can.
package mutation

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// DefaultDir is the catalogue, relative to the module root.
const DefaultDir = "scenarios/mutants"

// Mutant is one catalogued defect.
type Mutant struct {
	Name   string   // from the header; the file is NN-<Name>.patch
	File   string   // the patch's base name
	Defect string   // the defect, in one sentence
	Breaks []string // the checklist items it breaks
	// Focus is a Ginkgo label filter for the specs run first besides
	// those of Breaks (security properties have no item of their own).
	Focus string
	// Survives, when set, says why no spec can catch the defect: the
	// mutant is expected to survive. SurvivesInProcess and
	// SurvivesBlackBox say so for one mode only (in black-box, say, the
	// specs that catch it need our admin API).
	Survives, SurvivesInProcess, SurvivesBlackBox string
	Paths                                         []string // the files the patch changes
	Patch                                         []byte   // the whole file: header and unified diff
}

// fileRE is a patch's file name: a number giving the catalogue order,
// then the mutant's name.
var fileRE = regexp.MustCompile(`^[0-9]{2,3}-([a-z0-9][a-z0-9.-]*)\.patch$`)

// headerKeys are the header fields a patch may give; name, defect and
// breaks are required (breaks may be empty when focus is given).
var headerKeys = []string{"name", "defect", "breaks", "focus", "survives", "survives-in-process", "survives-black-box"}

// Load reads every *.patch of dir, in file-name order.
func Load(dir string) ([]Mutant, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.patch"))
	if err != nil {
		return nil, fmt.Errorf("mutation: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("mutation: no patches in %s", dir)
	}
	slices.Sort(paths)
	var out []Mutant
	seen := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("mutation: %w", err)
		}
		m, err := Parse(filepath.Base(p), b)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[m.Name]; dup {
			return nil, fmt.Errorf("mutation: %s and %s are both named %q", prev, m.File, m.Name)
		}
		seen[m.Name] = m.File
		out = append(out, m)
	}
	return out, nil
}

// Parse reads one patch: "# key: value" header lines, then a unified
// diff (git diff) of non-test files under gateway/ or protocol/.
func Parse(file string, b []byte) (Mutant, error) {
	m := Mutant{File: file, Patch: b}
	fail := func(format string, a ...any) (Mutant, error) {
		return Mutant{}, fmt.Errorf("mutation: %s: %s", file, fmt.Sprintf(format, a...))
	}
	fm := fileRE.FindStringSubmatch(file)
	if fm == nil {
		return fail("the file name must be NN-name.patch (lower case)")
	}
	got := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	inHeader := true
	for sc.Scan() {
		line := sc.Text()
		if inHeader && strings.HasPrefix(line, "#") {
			key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
			key, val = strings.TrimSpace(key), strings.TrimSpace(val)
			switch {
			case !ok || !slices.Contains(headerKeys, key):
				return fail("unknown header field %q (known: %s)", key, strings.Join(headerKeys, ", "))
			case got[key] != "":
				return fail("header field %q given twice", key)
			}
			got[key] = val
			continue
		}
		inHeader = false
		if rest, ok := strings.CutPrefix(line, "diff --git a/"); ok {
			path, _, _ := strings.Cut(rest, " b/")
			m.Paths = append(m.Paths, path)
		}
	}
	if err := sc.Err(); err != nil {
		return fail("%v", err)
	}
	m.Name, m.Defect, m.Focus = got["name"], got["defect"], got["focus"]
	m.Survives, m.SurvivesInProcess, m.SurvivesBlackBox = got["survives"], got["survives-in-process"], got["survives-black-box"]
	m.Breaks = strings.Fields(got["breaks"])
	switch {
	case m.Name != fm[1]:
		return fail("header name %q is not the file's name %q", m.Name, fm[1])
	case m.Defect == "":
		return fail("header field \"defect\" is required")
	case len(m.Breaks) == 0 && m.Focus == "":
		return fail("give the checklist items it breaks (breaks) or the specs to run first (focus)")
	case len(m.Paths) == 0:
		return fail("no diff (git diff output) after the header")
	}
	for _, p := range m.Paths {
		if !(strings.HasPrefix(p, "gateway/") || strings.HasPrefix(p, "protocol/")) || strings.HasSuffix(p, "_test.go") {
			return fail("%s: a mutant changes non-test gateway/ or protocol/ code only", p)
		}
	}
	return m, nil
}

// TargetFilter is the Ginkgo label filter of the specs run first: those
// of the items the mutant breaks, and its focus. Empty when it has none.
func (m Mutant) TargetFilter() string {
	var terms []string
	for _, id := range m.Breaks {
		terms = append(terms, "id:"+id)
	}
	if m.Focus != "" {
		terms = append(terms, "("+m.Focus+")")
	}
	return strings.Join(terms, " || ")
}

// ExpectedSurvival is the reason the mutant survives in mode, or "".
func (m Mutant) ExpectedSurvival(mode Mode) string {
	switch {
	case mode == BlackBox && m.SurvivesBlackBox != "":
		return m.SurvivesBlackBox
	case mode == InProcess && m.SurvivesInProcess != "":
		return m.SurvivesInProcess
	}
	return m.Survives
}

// Select returns the mutants named in only (all when empty), then, with
// sample > 0, a sample of that many chosen by key: each key (a commit
// hash) picks another sample, so successive CI runs cover the catalogue.
// The result keeps the catalogue's order.
func Select(all []Mutant, only []string, sample int, key string) ([]Mutant, error) {
	ms := all
	if len(only) > 0 {
		ms = nil
		var unknown []string
		for _, name := range only {
			i := slices.IndexFunc(all, func(m Mutant) bool { return m.Name == name || m.File == name })
			if i < 0 {
				unknown = append(unknown, name)
				continue
			}
			if !slices.ContainsFunc(ms, func(m Mutant) bool { return m.Name == all[i].Name }) {
				ms = append(ms, all[i])
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("mutation: no mutant named %s (gatehouse mutants list)", strings.Join(unknown, ", "))
		}
	}
	if sample < 0 {
		return nil, errors.New("mutation: the sample size is negative")
	}
	if sample == 0 || sample >= len(ms) {
		return ms, nil
	}
	rank := func(m Mutant) string {
		h := sha256.Sum256([]byte(key + "\x00" + m.Name))
		return string(h[:])
	}
	picked := slices.Clone(ms)
	slices.SortFunc(picked, func(a, b Mutant) int { return strings.Compare(rank(a), rank(b)) })
	picked = picked[:sample]
	slices.SortFunc(picked, func(a, b Mutant) int { return strings.Compare(a.File, b.File) })
	return picked, nil
}
