package dashboard

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// secretTags are elements whose text is a credential: shown as
// [redacted]. PolicyKey proves provisioning, so it is one too.
var secretTags = map[string]bool{"Password": true, "PolicyKey": true, "Certificate": true, "ClientCert": true, "Key": true}

// contentTags hold message contents (bodies, MIME, attachments): shown
// as their size only, as the gateway never logs contents either.
var contentTags = map[string]bool{"Data": true, "Mime": true, "Body": false, "Preview": true, "Picture": true}

// redactedXML decodes a WBXML body to indented XML with credentials and
// message contents replaced; a body that is not WBXML is described.
func redactedXML(body []byte) string {
	if len(body) == 0 {
		return "(no body)"
	}
	doc, err := wbxml.Parse(body, wbxml.DefaultLimits)
	if err != nil || doc.Root == nil {
		return fmt.Sprintf("(%d bytes, not WBXML)", len(body))
	}
	redact(doc.Root)
	var b bytes.Buffer
	if err := wbxml.WriteXML(&b, doc.Root); err != nil {
		return "(cannot render: " + err.Error() + ")"
	}
	return b.String()
}

func redact(n *wbxml.Node) {
	name := n.Tag.Name()
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	switch {
	case secretTags[name] && len(n.Content) > 0:
		n.Content, n.Opaque = []byte("[redacted]"), false
	case contentTags[name] && len(n.Content) > 0:
		n.Content, n.Opaque = []byte(fmt.Sprintf("[%d bytes of message content]", len(n.Content))), false
	}
	for _, c := range n.Children {
		redact(c)
	}
}
