package framework

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/onsi/ginkgo/v2"

	"github.com/gatehouse-lab/gatehouse/reports"
)

// Items are the SPEC-CHECKLIST.md items a spec checks; make them with IDs.
type Items []string

// IDs names the checklist items a spec checks, as data rather than title
// text: fw.It("...", fw.IDs("FO-01", "FO-02"), fw.Conformance(...), body).
func IDs(ids ...string) Items { return Items(ids) }

// It declares a spec, as ginkgo.It does, whose checklist items are data.
// Its arguments are the spec text (the behaviour, without item IDs), an
// IDs(...) value, labels (Conformance, Security, ...), other Ginkgo
// decorators and the body. Each item becomes the label "id:<ID>"
// (reports.IDLabel), so that `--label-filter=id:FO-01` selects it and
// reports read it without parsing titles.
//
// An ID that is not in the checklist, given twice, or an ID left in the
// text panics: inside a Describe, Ginkgo turns that into a failure of the
// suite while it builds the spec tree, before any spec runs.
//
// The body may be a func(), a func(context.Context) or a
// func(ginkgo.SpecContext). Either way the spec runs with a context that
// Ginkgo cancels on its timeout or an interrupt, which Framework.Ctx
// returns while the body runs. Without a SpecTimeout or NodeTimeout
// decorator, a spec gets TestContext.SpecTimeout.
func It(text string, args ...any) bool {
	var (
		ids     Items
		body    func(context.Context)
		timeout bool
	)
	rest := make([]any, 0, len(args)+3)
	for _, a := range args {
		switch v := a.(type) {
		case Items:
			ids = append(ids, v...)
		case func():
			body = func(context.Context) { v() }
		case func(context.Context):
			body = v
		case func(ginkgo.SpecContext):
			body = func(ctx context.Context) { v(ctx.(ginkgo.SpecContext)) }
		case ginkgo.SpecTimeout, ginkgo.NodeTimeout:
			timeout = true
			rest = append(rest, a)
		default:
			rest = append(rest, a)
		}
	}
	labels, err := checkSpec(text, ids)
	if err != nil {
		panic(fmt.Sprintf("framework.It(%q): %v", text, err))
	}
	if _, file, line, ok := runtime.Caller(1); ok {
		declared.Store(location(file, line), true)
	}
	if body != nil {
		rest = append(rest, func(ctx ginkgo.SpecContext) {
			defer enterSpec(ctx)()
			body(ctx)
		})
	}
	if !timeout && TestContext.SpecTimeout > 0 {
		rest = append(rest, ginkgo.SpecTimeout(TestContext.SpecTimeout))
	}
	rest = append(rest, labels, ginkgo.Offset(1))
	return ginkgo.It(text, rest...)
}

// running is the context of the spec body running in this process
// (Ginkgo runs one spec at a time per process), for Framework.Ctx.
var running struct {
	sync.Mutex
	ctx context.Context
}

// enterSpec makes ctx the running spec's context and returns the
// function that ends it. A body that outlived its spec's timeout and
// returns late does not end its successor's context.
func enterSpec(ctx context.Context) (leave func()) {
	running.Lock()
	running.ctx = ctx
	running.Unlock()
	return func() {
		running.Lock()
		if running.ctx == ctx {
			running.ctx = nil
		}
		running.Unlock()
	}
}

// specContext is the running spec body's context; outside one (setup,
// DeferCleanup after the body), context.Background().
func specContext() context.Context {
	running.Lock()
	defer running.Unlock()
	if running.ctx == nil {
		return context.Background()
	}
	return running.ctx
}

// checkSpec validates a spec's items and text and returns its id: labels.
func checkSpec(text string, ids Items) (ginkgo.Labels, error) {
	labels := ginkgo.Labels{}
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := reports.LookupItem(id); !ok {
			return nil, fmt.Errorf("%q is not an item of SPEC-CHECKLIST.md", id)
		}
		if seen[id] {
			return nil, fmt.Errorf("item %s given twice", id)
		}
		seen[id] = true
		labels = append(labels, reports.IDLabel(id))
	}
	for _, id := range reports.ItemIDs(text) {
		if _, ok := reports.LookupItem(id); ok {
			return nil, fmt.Errorf("the text names checklist item %s: give it in IDs(...), not in the text", id)
		}
	}
	return labels, nil
}

// declared holds the file:line of every spec declared through It, so
// that a spec declared with ginkgo.It directly (no items as data) fails
// at once (beforeEach).
var declared sync.Map

func location(file string, line int) string { return fmt.Sprintf("%s:%d", file, line) }

// checkDeclared fails a spec that was not declared through It.
func checkDeclared() {
	r := ginkgo.CurrentSpecReport()
	if _, ok := declared.Load(location(r.LeafNodeLocation.FileName, r.LeafNodeLocation.LineNumber)); ok {
		return
	}
	ginkgo.Fail(fmt.Sprintf("spec %q at %s was declared with ginkgo.It: declare scenario specs with framework.It(text, IDs(...), labels, body), which carries their checklist items",
		r.LeafNodeText, r.LeafNodeLocation))
}
