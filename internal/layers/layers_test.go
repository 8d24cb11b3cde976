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

// layerOf returns a package directory's layer and its tree (the first path
// element, which siblings of the same layer must not cross).
func layerOf(dir string) (int, string) {
	top := strings.SplitN(dir, "/", 2)[0]
	switch top {
	case "protocol":
		return 0, top
	case "gateway", "fakes":
		return 1, top
	case "loadgen", "lab", "reports", "containers":
		return 2, top
	case "scenarios", "cmd":
		return 3, top
	}
	return -1, top // internal/ and the rest: shared helpers, any layer may use them
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
		from, fromTree := layerOf(filepath.ToSlash(rel))
		if from < 0 {
			return nil
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
			case to < 0:
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
	for dir, want := range map[string]int{
		"protocol/wbxml": 0, "gateway/activesync": 1, "fakes/uem": 1, "loadgen/device": 2, "lab": 2, "containers/labstack": 2, "scenarios/framework": 3, "cmd/gatehouse": 3, "internal/selfsigned": -1,
	} {
		if got, _ := layerOf(dir); got != want {
			t.Errorf("layerOf(%s) = %d, want %d", dir, got, want)
		}
	}
	if _, err := os.Stat("../../go.mod"); err != nil {
		t.Fatal("the test must run from internal/layers in the module")
	}
}
