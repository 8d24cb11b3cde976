package framework

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	bin "encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Helpers of the attachment-control specs (ATT): the UEM's attachment
// key, an independent reader of the encrypted attachment format
// (docs/attachment-format.md), MIME building and walking, and mail sent
// by a device with the MIME the spec chose (SendMail, SmartForward,
// SmartReply), as a device that keeps encrypted attachments sends them.

// attachmentKeys is what the UEM offers for the attachment key: the
// in-process server and the admin client both have it.
type attachmentKeys interface {
	AttachmentKey(ctx context.Context) (uemapi.AttachmentKey, error)
	RegenerateKey(ctx context.Context) (uemapi.AttachmentKey, error)
}

func (u inProcessUEM) AttachmentKey(context.Context) (uemapi.AttachmentKey, error) {
	return u.s.AttachmentKey(), nil
}

func (u inProcessUEM) RegenerateKey(context.Context) (uemapi.AttachmentKey, error) {
	return u.s.RegenerateKey(), nil
}

// AttachmentKey is the UEM's current attachment key (ATT-10).
func (f *Framework) AttachmentKey() uemapi.AttachmentKey {
	ks, ok := f.UEM.(attachmentKeys)
	gomega.Expect(ok).To(gomega.BeTrue(), "the UEM client offers the attachment key")
	k, err := ks.AttachmentKey(f.Ctx())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "reading the UEM's attachment key")
	return k
}

// RegenerateAttachmentKey has the UEM regenerate the attachment key,
// which it announces to the gateways (ATT-11), and waits until the
// gateway took the announcement (key.regenerated delivered).
func (f *Framework) RegenerateAttachmentKey() uemapi.AttachmentKey {
	ks, ok := f.UEM.(attachmentKeys)
	gomega.Expect(ok).To(gomega.BeTrue(), "the UEM client offers the attachment key")
	seen := f.deliveries(uemapi.NotifyKey)
	k, err := ks.RegenerateKey(f.Ctx())
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "regenerating the UEM's attachment key")
	gomega.Eventually(func() int { return len(f.deliveries(uemapi.NotifyKey)) }).Should(gomega.BeNumerically(">", len(seen)),
		"the gateway took the new key (key.regenerated delivered)")
	return k
}

// deliveries are the ids of the delivered notifications of type t to
// this gateway.
func (f *Framework) deliveries(t uemapi.NotificationType) []string {
	ds, err := f.UEM.Deliveries(f.Ctx())
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	var ids []string
	for _, d := range ds {
		if d.Type == string(t) && d.Status == uem.DeliveryDelivered && d.GatewayID == f.GatewayID() {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

// Encrypted attachment format constants (docs/attachment-format.md).
const (
	attachMagic  = "GHAC"
	attachInfo   = "gatehouse attachment v1"
	attachSalt   = 32
	attachPrefix = 7
	attachTag    = 16
)

// EncryptedHeader is the readable header of an encrypted attachment.
type EncryptedHeader struct {
	Version byte   // 1: AES-256-GCM, 2: AES-128-GCM
	KeyID   string // the UEM key's id
}

// ReadEncryptedHeader parses the header of an encrypted attachment.
func ReadEncryptedHeader(data []byte) (EncryptedHeader, error) {
	if len(data) < 7 || string(data[:4]) != attachMagic {
		return EncryptedHeader{}, errors.New("not an encrypted attachment (no GHAC magic)")
	}
	l := int(data[6])
	if len(data) < 7+l {
		return EncryptedHeader{}, errors.New("short header")
	}
	return EncryptedHeader{Version: data[4], KeyID: string(data[7 : 7+l])}, nil
}

// DecryptAttachment decrypts an encrypted attachment with the UEM key
// whose id its header names, written from the format's description
// rather than with the gateway's code, so that a gateway encrypting in
// another way fails.
func DecryptAttachment(data []byte, keys ...uemapi.AttachmentKey) ([]byte, error) {
	h, err := ReadEncryptedHeader(data)
	if err != nil {
		return nil, err
	}
	var key *uemapi.AttachmentKey
	for i := range keys {
		if keys[i].ID == h.KeyID {
			key = &keys[i]
		}
	}
	if key == nil {
		return nil, fmt.Errorf("encrypted under key %q, not one of the UEM keys given", h.KeyID)
	}
	klen := 32
	if h.Version == 2 {
		klen = 16
	} else if h.Version != 1 {
		return nil, fmt.Errorf("unknown version %d", h.Version)
	}
	if len(key.Key) != klen {
		return nil, fmt.Errorf("version %d needs a %d-byte key, the UEM key has %d", h.Version, klen, len(key.Key))
	}
	c := data[5]
	if c < 10 || c > 20 {
		return nil, fmt.Errorf("chunk size 2^%d out of range", c)
	}
	hl := 7 + len(h.KeyID) + attachSalt + attachPrefix
	if len(data) < hl {
		return nil, errors.New("short header")
	}
	header, salt, prefix := data[:hl], data[7+len(h.KeyID):7+len(h.KeyID)+attachSalt], data[hl-attachPrefix:hl]
	aead, err := fileAEAD(key.Key, salt)
	if err != nil {
		return nil, err
	}
	rest, size := data[hl:], (1<<c)+attachTag
	var out []byte
	for i := uint32(0); ; i++ {
		n := min(size, len(rest))
		last := n == len(rest)
		nonce := chunkNonce(prefix, i, last)
		plain, err := aead.Open(nil, nonce[:], rest[:n], header)
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", i, err)
		}
		out = append(out, plain...)
		rest = rest[n:]
		if last {
			return out, nil
		}
	}
}

// EncryptAttachment encrypts plain under the UEM key in the format the
// gateway decrypts, as Docs@Work encrypts what it sends (ATT-16).
func EncryptAttachment(plain []byte, key uemapi.AttachmentKey) ([]byte, error) {
	version := byte(1)
	if len(key.Key) == 16 {
		version = 2
	} else if len(key.Key) != 32 {
		return nil, fmt.Errorf("key of %d bytes", len(key.Key))
	}
	const c = 16
	header := append([]byte(attachMagic), version, c, byte(len(key.ID)))
	header = append(header, key.ID...)
	random := make([]byte, attachSalt+attachPrefix)
	if _, err := rand.Read(random); err != nil {
		return nil, err
	}
	header = append(header, random...)
	salt, prefix := random[:attachSalt], random[attachSalt:]
	aead, err := fileAEAD(key.Key, salt)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), header...)
	for i := uint32(0); ; i++ {
		n := min(1<<c, len(plain))
		last := n == len(plain)
		nonce := chunkNonce(prefix, i, last)
		out = aead.Seal(out, nonce[:], plain[:n], header)
		plain = plain[n:]
		if last {
			return out, nil
		}
	}
}

// fileAEAD is the AES-GCM of one file: its key derived from the UEM key
// and the file's salt, as long as the UEM key.
func fileAEAD(uemKey, salt []byte) (cipher.AEAD, error) {
	fileKey, err := hkdf.Key(sha256.New, uemKey, salt, attachInfo, len(uemKey))
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(fileKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// chunkNonce is chunk i's nonce: the file's prefix, the chunk index and
// a last-chunk flag.
func chunkNonce(prefix []byte, i uint32, last bool) (nonce [12]byte) {
	copy(nonce[:], prefix)
	bin.BigEndian.PutUint32(nonce[7:11], i)
	if last {
		nonce[11] = 1
	}
	return nonce
}

// MIMEPart is one attachment of a message BuildMIME makes: a file
// (Data) or, with Message set, an embedded email (message/rfc822).
type MIMEPart struct {
	Name        string
	ContentType string
	Data        []byte
	Message     []byte
}

// BuildMIME makes a multipart/mixed message with a text body and parts.
func BuildMIME(from string, to []string, subject, body string, parts ...MIMEPart) []byte {
	var b bytes.Buffer
	bnd := fmt.Sprintf("=_gh_spec_%x", sha256.Sum256([]byte(subject+body+fmt.Sprint(len(parts)))))[:40]
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\nMIME-Version: 1.0\r\n", from, strings.Join(to, ", "), subject)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", bnd, bnd, body)
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\n", bnd)
		if p.Message != nil {
			fmt.Fprintf(&b, "Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"%s\"\r\n\r\n", p.Name)
			b.Write(p.Message)
			b.WriteString("\r\n")
			continue
		}
		ct := p.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		fmt.Fprintf(&b, "Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", ct, p.Name, p.Name)
		enc := base64.StdEncoding.EncodeToString(p.Data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", bnd)
	return b.Bytes()
}

// FoundAttachment is an attachment found by MIMEAttachments: its file
// name, decoded bytes and the level of embedded email it sits in (0: the
// message itself, 1: an email attached to it, ...).
type FoundAttachment struct {
	Name  string
	Data  []byte
	Level int
}

// MIMEAttachments walks a MIME message, embedded emails included, and
// lists its named leaf parts.
func MIMEAttachments(raw []byte) ([]FoundAttachment, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("MIME: %w", err)
	}
	var out []FoundAttachment
	err = walkEntity(textprotoHeader(msg.Header), msg.Body, 0, 0, &out)
	return out, err
}

type partHeader interface{ Get(string) string }

func textprotoHeader(h mail.Header) partHeader { return h }

func walkEntity(h partHeader, body io.Reader, level, depth int, out *[]FoundAttachment) error {
	if depth > 40 {
		return errors.New("MIME nested too deep")
	}
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("MIME part: %w", err)
			}
			if err := walkEntity(p.Header, p, level, depth+1, out); err != nil {
				return err
			}
		}
	case mt == "message/rfc822":
		inner, err := mail.ReadMessage(body)
		if err != nil {
			return fmt.Errorf("embedded email: %w", err)
		}
		return walkEntity(inner.Header, inner.Body, level+1, depth+1, out)
	}
	name := params["name"]
	if _, dp, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	if name == "" {
		return nil // body text
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if strings.EqualFold(strings.TrimSpace(h.Get("Content-Transfer-Encoding")), "base64") {
		clean := strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, string(data))
		if data, err = base64.StdEncoding.DecodeString(clean); err != nil {
			return fmt.Errorf("attachment %q: %w", name, err)
		}
	}
	*out = append(*out, FoundAttachment{Name: name, Data: data, Level: level})
	return nil
}

// SendMIME sends mime from d as cmd (SendMail, SmartForward or
// SmartReply) in the form of d's protocol version: raw MIME with the
// source in the query for 12.1, ComposeMail WBXML with ReplaceMime for
// 14.0 and later. src is the forwarded or answered item (nil for
// SendMail). It returns the HTTP status and the ComposeMail status (0
// when the answer has none: success). d must have connected.
func (f *Framework) SendMIME(d *device.Device, cmd eas.Command, mime []byte, src *eas.Source) (int, int, error) {
	cfg := d.Config()
	q := &eas.Query{Cmd: cmd, User: d.User(), DeviceID: d.ID(), DeviceType: cfg.DeviceType()}
	var body []byte
	ct := eas.ContentTypeWBXML
	if cfg.Version.Compare(eas.V140) < 0 {
		q.SaveInSent, body, ct = true, mime, "message/rfc822"
		if src != nil {
			q.CollectionID, q.ItemID = src.FolderId, src.ItemId
		}
	} else {
		id := fmt.Sprintf("%s-%s", d.ID(), f.FreshDeviceID())
		var msg any
		switch cmd {
		case eas.CmdSmartForward:
			msg = &eas.SmartForward{ClientId: id, Source: src, SaveInSentItems: true, ReplaceMime: true, Mime: mime}
		case eas.CmdSmartReply:
			msg = &eas.SmartReply{ClientId: id, Source: src, SaveInSentItems: true, ReplaceMime: true, Mime: mime}
		default:
			msg = &eas.SendMail{ClientId: id, SaveInSentItems: true, Mime: mime}
		}
		var err error
		if body, err = wbxml.MarshalStruct(msg); err != nil {
			return 0, 0, err
		}
	}
	req, err := http.NewRequestWithContext(f.Ctx(), http.MethodPost, f.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.SetBasicAuth(d.User(), cfg.Password)
	req.Header.Set("User-Agent", cfg.UserAgent())
	req.Header.Set("Content-Type", ct)
	req.Header.Set(eas.HeaderProtocolVersion, cfg.Version.String())
	req.Header.Set(eas.HeaderPolicyKey, d.PolicyKey())
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || len(b) == 0 || resp.StatusCode != http.StatusOK {
		return resp.StatusCode, 0, err
	}
	doc, err := wbxml.Parse(b, wbxml.Limits{})
	if err != nil {
		return resp.StatusCode, 0, fmt.Errorf("ComposeMail answer: %w", err)
	}
	for _, c := range doc.Root.Children {
		if c.Tag.Name() == "Status" {
			var st int
			_, _ = fmt.Sscan(c.Text(), &st)
			return resp.StatusCode, st, nil
		}
	}
	return resp.StatusCode, 0, nil
}
