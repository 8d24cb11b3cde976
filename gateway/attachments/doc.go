// Package attachments is email attachment control (checklist section 13,
// ATT-01 to ATT-25): it rewrites attachments on their way to a device as
// the UEM's configuration says (remove, encrypt for Docs@Work, deliver as
// is, leave to the secure email app) and undoes its own encryption on the
// way out for recipients outside the work domains.
//
// The pieces, one per file:
//
//   - classify.go: which of the UEM's three dropdowns governs a device
//     (Classify, Language).
//   - policy.go: the UEM's AttachmentControl and the work domains, ready
//     for use (Policy, Option, exclusion list).
//   - keyring.go, format.go: attachment keys and key regeneration
//     (Keyring), the chunked AES-GCM format (EncryptStream, DecryptStream,
//     docs/attachment-format.md).
//   - rewrite.go: the streaming MIME walk on the way down (RewriteMIME),
//     embedded messages and S/MIME included.
//   - outbound.go: SendMail, SmartForward and SmartReply (RewriteOutbound).
//   - fetch.go: Sync responses, ItemOperations and GetAttachment bodies;
//     search.go: Search results.
//   - smime.go: what S/MIME encrypted mail is, which passes untouched.
//   - failclosed.go: what replaces content that cannot be rewritten under
//     Remove and Encrypt (issue 18).
//   - removed.go: the .removed.html replacement and its translations.
//
// Nothing here touches the network; bodies stream from an io.Reader to an
// io.Writer with memory bounded by one crypto chunk and a few buffers per
// MIME nesting level. docs/attachments.md documents the rules.
package attachments
