package attachments

import (
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

var tagSearchProperties = wbxml.MustTag("Search:Properties")

// RewriteSearch applies opt to the results of a Search response, a
// decoded tree, in place: the properties of each mailbox result are an
// item like a Sync's (MIME body, attachment list), rewritten by the same
// rules. Elements outside a result's properties that carry attachment
// content are dropped, and so are the properties of a result that cannot
// be decoded (fail closed); a text holding NUL is scrubbed first
// (ScrubNUL). GAL and document library results carry none and pass.
func (r *Rewriter) RewriteSearch(root *wbxml.Node, opt Option, lang string) Result {
	var total Result
	if root == nil || (opt != Remove && opt != Encrypt) {
		total.Untouched = true
		return total
	}
	r.rewriteSearchNode(root, opt, lang, &total)
	return total
}

func (r *Rewriter) rewriteSearchNode(n *wbxml.Node, opt Option, lang string, total *Result) {
	kept := n.Children[:0:0]
	for _, c := range n.Children {
		switch {
		case c.Tag == tagSearchProperties:
			total.add(r.rewriteSearchProperties(c, opt, lang))
		case c.Tag == tagMIMEData || c.Tag == tagItemOpsData || c.Tag == tagBody && carrier(c):
			r.unprocessable(total, 1)
			continue
		default:
			r.rewriteSearchNode(c, opt, lang, total)
		}
		kept = append(kept, c)
	}
	n.Children = kept
}

func (r *Rewriter) rewriteSearchProperties(p *wbxml.Node, opt Option, lang string) Result {
	var res Result
	var e eas.EmailData
	err := wbxml.NodeToStruct(&wbxml.Node{Tag: tagApplicationData, Children: p.Children}, &e)
	if err != nil && ScrubNUL(p) {
		e = eas.EmailData{}
		err = wbxml.NodeToStruct(&wbxml.Node{Tag: tagApplicationData, Children: p.Children}, &e)
	}
	if err != nil {
		p.Children = r.dropCarriers(&res, p.Children)
		return res
	}
	r.dropHidden(&res, &e)
	res.add(r.rewriteEmail(&e, opt, lang))
	n, err := wbxml.StructToNode(&e)
	if err != nil {
		p.Children = r.dropCarriers(&res, p.Children)
		return res
	}
	p.Children = n.Children
	return res
}
