package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/gatehouse-lab/gatehouse/"

// Layers that are not a number.
const (
	anyLayer = -1 // internal/: helpers any layer may use
	noLayer  = -2 // a top-level directory docs/architecture.md does not place
)

// layerOf returns a package directory's layer and its tree (the first path
// element, which siblings of the same layer must not cross). A package
// nested under a tree's own internal/ (fakes/internal/servers) belongs to
// that tree.
func layerOf(dir string) (int, string) {
	top := strings.SplitN(dir, "/", 2)[0]
	switch top {
	case "protocol":
		return 0, top
	case "gateway", "fakes":
		return 1, top
	case "loadgen", "lab", "reports", "containers", "chaos":
		return 2, top
	case "scenarios", "cmd":
		return 3, top
	case "internal":
		return anyLayer, top
	}
	return noLayer, top
}

func TestDependenciesPointDown(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil // no Go code at the root; a tool there would need a layer
		}
		from, fromTree := layerOf(rel)
		if from == noLayer {
			t.Errorf("%s: the top-level directory %s has no layer: place it in docs/architecture.md and layerOf", rel, fromTree)
			return filepath.SkipDir
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if !strings.HasPrefix(p, module) {
				continue
			}
			to, toTree := layerOf(strings.TrimPrefix(p, module))
			checked++
			switch {
			case to == anyLayer:
			case from == anyLayer:
				// Any layer may use internal/, so it may use none: an
				// import of a layered package would let protocol reach
				// the gateway through a helper.
				t.Errorf("%s (internal, used by any layer) imports %s (layer %d): internal/ helpers import no layered package", rel, p, to)
			case to > from:
				t.Errorf("%s (layer %d) imports %s (layer %d): dependencies point down only", rel, from, p, to)
			case to == from && toTree != fromTree && from == 1:
				// Servers stay apart (the gateway never imports a fake);
				// drivers may compose one another (the lab hands out
				// simulated devices).
				t.Errorf("%s imports %s from the sibling tree %s of its own layer", rel, p, toTree)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no imports checked: the walk found no packages")
	}
}

func TestLayerTable(t *testing.T) {
	// layerOf reads only the path, so an entry for a package that does
	// not exist (yet, or any more) still holds; the walk above is what
	// covers every package that does.
	for dir, want := range map[string]int{
		"protocol/wbxml": 0, "protocol/uemapi": 0,
		"gateway/activesync": 1, "gateway/apptunnel": 1, "gateway/identity": 1, "gateway/kerberos/delegation": 1, "gateway/kerberos/discovery": 1,
		"fakes/uem": 1, "fakes/faults": 1, "fakes/internal/servers": 1, "fakes/smtp": 1, "gateway/alerts": 1,
		"loadgen/device": 2, "lab": 2, "lab/dashboard": 2, "containers/labstack": 2, "containers/internal/ctr": 2, "reports/internal/gencheck": 2, "chaos": 2,
		"scenarios/framework": 3, "scenarios/framework/settings": 3, "cmd/gatehouse": 3,
		"internal/selfsigned": anyLayer, "internal/httpapi": anyLayer, "internal/roundtrip": anyLayer, "internal/peers": anyLayer,
		"internal/httplimit": anyLayer, "internal/nonzero": anyLayer, "internal/clock": anyLayer, "internal/trust": anyLayer,
		"tools/gen":      noLayer,
		"protocol/oauth": 0, "gateway/oauth": 1, "fakes/idp": 1,
	} {
		if got, _ := layerOf(dir); got != want {
			t.Errorf("layerOf(%s) = %d, want %d", dir, got, want)
		}
	}
	if _, tree := layerOf("fakes/internal/servers"); tree != "fakes" {
		t.Errorf("fakes/internal/servers is in tree %q, want fakes (its importers are the fakes)", tree)
	}
	if _, err := os.Stat("../../go.mod"); err != nil {
		t.Fatal("the test must run from internal/layers in the module")
	}
}
