package attachments

import (
	"strings"
)

// S/MIME encrypted mail passes untouched under every option (ATT-21): the
// gateway cannot read it, and changing it would make it undecryptable. It
// is recognised wherever an attachment can reach a device:
//
//   - in MIME (Sync and ItemOperations MIME bodies, attached emails): an
//     application/pkcs7-mime or application/x-pkcs7-mime entity whose
//     smime-type is enveloped-data or authEnveloped-data (or absent, the
//     RFC 2311 form), named smime.p7m (any *.p7m) or unnamed; and
//     multipart/encrypted;
//   - in a Sync or ItemOperations attachment list (non-MIME body
//     preference): the *.p7m attachment of a message whose MessageClass is
//     IPM.Note.SMIME or a subclass other than IPM.Note.SMIME.MultipartSigned;
//   - in an ItemOperations fetch by FileReference or a GetAttachment body:
//     the content type, as in MIME.
//
// Signed-only mail (multipart/signed, IPM.Note.SMIME.MultipartSigned,
// pkcs7-mime signed-data) is processed under Remove and Encrypt: its
// attachments are readable, so they are controlled, and the signature
// breaks as the seeds warn. An IPM.Note.SMIME message may also be
// opaque-signed (signed-data in smime.p7m): its list entry keeps its name,
// and the fetch, which carries the content type, decides.
//
// A pkcs7-mime entity carrying another file name (report.pdf) is not
// treated as S/MIME: a device could open it as that file, so it is
// controlled like any attachment (fail closed).

// isSMIMEEncrypted reports S/MIME enveloped (encrypted) content, which
// passes untouched (ATT-21). name is the entity's file name ("" if none).
func isSMIMEEncrypted(mt string, params map[string]string, name string) bool {
	switch mt {
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		st := strings.ToLower(params["smime-type"])
		return (st == "" || st == "enveloped-data" || st == "authenveloped-data") && smimeName(name)
	case "multipart/encrypted":
		return true
	}
	return false
}

// smimeName reports a name an S/MIME entity may carry: none, or *.p7m
// (smime.p7m by RFC 8551).
func smimeName(name string) bool {
	return name == "" || strings.HasSuffix(strings.ToLower(strings.TrimSpace(name)), ".p7m")
}

// IsSMIMEEncryptedClass reports an ActiveSync MessageClass of S/MIME
// encrypted (or opaque-signed) mail: IPM.Note.SMIME and its subclasses,
// except the clear-signed IPM.Note.SMIME.MultipartSigned.
func IsSMIMEEncryptedClass(class string) bool {
	c := strings.ToLower(strings.TrimSpace(class))
	if c == "ipm.note.smime" {
		return true
	}
	return strings.HasPrefix(c, "ipm.note.smime.") && c != "ipm.note.smime.multipartsigned"
}

// isSMIME reports a fetched attachment (GetAttachment, ItemOperations by
// FileReference) that is S/MIME encrypted content. Its content type must
// say so; without one the attachment is controlled (fail closed).
func (a AttachmentInfo) isSMIME() bool {
	mt, params, ok := parseContentType(a.ContentType)
	return ok && a.ContentType != "" && mt != "multipart/encrypted" && isSMIMEEncrypted(mt, params, a.Name)
}
