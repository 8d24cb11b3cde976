package exchange

import (
	"net/http"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// The commands added for protocol transparency (Search, Folder*,
// MeetingResponse, ResolveRecipients, ValidateCert, Find) work on the
// WBXML tree rather than typed structs: they read a few elements and
// answer with a few, and unknown children cost nothing.

// el builds an element from a "Page:Name" tag and its children.
func el(tag string, children ...*wbxml.Node) *wbxml.Node {
	return wbxml.NewElement(wbxml.MustTag(tag), children...)
}

// txt builds a text element from a "Page:Name" tag.
func txt(tag, s string) *wbxml.Node { return wbxml.NewText(wbxml.MustTag(tag), s) }

// kid returns n's first child named by a "Page:Name" tag, or nil (also
// for a nil n), so that lookups chain without checks.
func kid(n *wbxml.Node, tag string) *wbxml.Node {
	if n == nil {
		return nil
	}
	return n.Child(wbxml.MustTag(tag))
}

// kids returns every child of n with the tag.
func kids(n *wbxml.Node, tag string) []*wbxml.Node {
	if n == nil {
		return nil
	}
	t := wbxml.MustTag(tag)
	var out []*wbxml.Node
	for _, c := range n.Children {
		if c.Tag == t {
			out = append(out, c)
		}
	}
	return out
}

// text is the content of n's child with the tag ("" when absent).
func text(n *wbxml.Node, tag string) string {
	if c := kid(n, tag); c != nil {
		return c.Text()
	}
	return ""
}

// decodeTree reads the request body as a WBXML document whose root must
// be the given tag. It answers 400 and returns nil when the body is
// empty, undecodable or another command's; the caller then stops.
func (s *Server) decodeTree(rc *reqCtx, root string) *wbxml.Node {
	b, ok := s.readBody(rc)
	if !ok {
		return nil
	}
	if len(b) == 0 {
		http.Error(rc.w, "empty "+string(rc.ri.Query.Cmd)+" request", http.StatusBadRequest)
		return nil
	}
	doc, err := wbxml.Parse(b, wbxml.Limits{MaxSize: int(s.cfg.MaxRequestBody)})
	if err == nil && doc.Root.Tag != wbxml.MustTag(root) {
		http.Error(rc.w, "request root is "+doc.Root.Tag.String()+", want "+root, http.StatusBadRequest)
		return nil
	}
	if err != nil {
		s.log.Info("eas: undecodable body", "cmd", rc.ri.Query.Cmd, "user", rc.mb.user.Name, "error", err)
		http.Error(rc.w, "invalid WBXML", http.StatusBadRequest)
		return nil
	}
	return doc.Root
}

// writeTree answers with a WBXML tree.
func (s *Server) writeTree(rc *reqCtx, root *wbxml.Node) {
	b, err := wbxml.Marshal(root)
	if err != nil {
		s.log.Error("eas: encode response", "cmd", rc.ri.Query.Cmd, "error", err)
		http.Error(rc.w, "encode", http.StatusInternalServerError)
		return
	}
	writeWBXMLBytes(rc.w, b)
}
