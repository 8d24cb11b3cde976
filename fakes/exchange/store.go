package exchange

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Folder types of MS-ASCMD 2.2.3.186.3.
const (
	FolderTypeUserGeneric = 1
	FolderTypeInbox       = 2
	FolderTypeDrafts      = 3
	FolderTypeDeleted     = 4
	FolderTypeSent        = 5
	FolderTypeOutbox      = 6
	FolderTypeTasks       = 7
	FolderTypeCalendar    = 8
	FolderTypeContacts    = 9
	FolderTypeNotes       = 10
)

// defaultFolders is every mailbox's hierarchy, in FolderSync order.
var defaultFolders = []struct {
	id, name, class string
	typ             int
}{
	{"1", "Inbox", "Email", FolderTypeInbox},
	{"2", "Drafts", "Email", FolderTypeDrafts},
	{"3", "Deleted Items", "Email", FolderTypeDeleted},
	{"4", "Sent Items", "Email", FolderTypeSent},
	{"5", "Outbox", "Email", FolderTypeOutbox},
	{"6", "Calendar", "Calendar", FolderTypeCalendar},
	{"7", "Contacts", "Contacts", FolderTypeContacts},
	{"8", "Tasks", "Tasks", FolderTypeTasks},
	{"9", "Notes", "Notes", FolderTypeNotes},
}

type folder struct {
	ID, ParentID, Name, Class string
	Type                      int
	items                     []*item // in arrival order
	gen                       uint64  // bumped on every change
}

type item struct {
	ServerID string
	Raw      []byte
	Msg      *ParsedMessage
	Read     bool
	Received time.Time
}

// fileRef is the FileReference of attachment i of the item.
func (it *item) fileRef(i int) string { return it.ServerID + ":" + strconv.Itoa(i) }

// colState is a device's sync state of one collection: the current key and
// what the device holds (ServerId → Read), plus the previous ones so a
// device that lost a response can resend the previous key.
type colState struct {
	key, prevKey     string
	known, prevKnown map[string]bool
}

// deviceState is what a mailbox remembers per device.
type deviceState struct {
	folderKey   string
	folderSnap  map[string]folderMeta
	cols        map[string]*colState
	lastSync    []byte // last non-empty Sync request body, for empty requests
	pingSeconds int
	pingFolders []string
}

type folderMeta struct {
	parent, name string
	typ          int
}

// mailbox holds one user's folders and devices' sync states; mu guards it all.
type mailbox struct {
	user User

	mu       sync.Mutex
	folders  []*folder
	byID     map[string]*folder
	nextItem int
	nextKey  uint64
	// nextFolder numbers the folders devices create (FolderCreate).
	nextFolder int
	changed    chan struct{} // closed (and replaced) on every change
	devices    map[string]*deviceState
	redirect   string
}

func newMailbox(u User, keyBase uint64) *mailbox {
	m := &mailbox{user: u, byID: map[string]*folder{}, changed: make(chan struct{}), devices: map[string]*deviceState{}, nextKey: keyBase}
	for _, f := range defaultFolders {
		fd := &folder{ID: f.id, ParentID: "0", Name: f.name, Class: f.class, Type: f.typ}
		m.folders = append(m.folders, fd)
		m.byID[fd.ID] = fd
	}
	return m
}

// newKeyLocked returns a fresh sync key; keys never repeat in a mailbox.
func (m *mailbox) newKeyLocked() string {
	m.nextKey++
	return strconv.FormatUint(m.nextKey, 10)
}

// notifyLocked wakes every waiter (Ping, admin) and bumps the folder.
func (m *mailbox) notifyLocked(f *folder) {
	f.gen++
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *mailbox) device(id string) *deviceState {
	d := m.devices[id]
	if d == nil {
		d = &deviceState{cols: map[string]*colState{}}
		m.devices[id] = d
	}
	return d
}

// addLocked stores a message in f and returns the item.
func (m *mailbox) addLocked(f *folder, raw []byte, pm *ParsedMessage, read bool, now time.Time) *item {
	m.nextItem++
	it := &item{ServerID: f.ID + ":" + strconv.Itoa(m.nextItem), Raw: raw, Msg: pm, Read: read, Received: now}
	f.items = append(f.items, it)
	m.notifyLocked(f)
	return it
}

// deliver parses raw and stores it in the folder of the given type.
func (m *mailbox) deliver(typ int, raw []byte, read bool, now time.Time) (*item, error) {
	pm, err := ParseMIME(raw)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addLocked(m.folderByType(typ), raw, pm, read, now), nil
}

func (m *mailbox) folderByType(typ int) *folder {
	for _, f := range m.folders {
		if f.Type == typ {
			return f
		}
	}
	return m.folders[0]
}

func (f *folder) find(serverID string) (int, *item) {
	for i, it := range f.items {
		if it.ServerID == serverID {
			return i, it
		}
	}
	return -1, nil
}

func (m *mailbox) removeLocked(f *folder, i int) *item {
	it := f.items[i]
	f.items = slices.Delete(f.items, i, i+1)
	m.notifyLocked(f)
	return it
}

// moveLocked moves an item to dst under a new ServerId.
func (m *mailbox) moveLocked(src *folder, i int, dst *folder) *item {
	it := m.removeLocked(src, i)
	m.nextItem++
	moved := &item{ServerID: dst.ID + ":" + strconv.Itoa(m.nextItem), Raw: it.Raw, Msg: it.Msg, Read: it.Read, Received: it.Received}
	dst.items = append(dst.items, moved)
	m.notifyLocked(dst)
	return moved
}

// findItem looks an item up by ServerId ("folder:n") anywhere.
func (m *mailbox) findItemLocked(serverID string) (*folder, int, *item) {
	fid, _, _ := strings.Cut(serverID, ":")
	f := m.byID[fid]
	if f == nil {
		return nil, -1, nil
	}
	i, it := f.find(serverID)
	if it == nil {
		return nil, -1, nil
	}
	return f, i, it
}

// findAttachmentLocked resolves a FileReference "folder:n:i".
func (m *mailbox) findAttachmentLocked(ref string) (*item, *ParsedAttachment) {
	j := strings.LastIndexByte(ref, ':')
	if j < 0 {
		return nil, nil
	}
	idx, err := strconv.Atoi(ref[j+1:])
	if err != nil {
		return nil, nil
	}
	_, _, it := m.findItemLocked(ref[:j])
	if it == nil || idx < 0 || idx >= len(it.Msg.Attachments) {
		return nil, nil
	}
	return it, &it.Msg.Attachments[idx]
}

// pendingLocked counts the changes a Sync of f would send the device.
func pendingLocked(f *folder, cs *colState) int {
	if cs == nil {
		return 0
	}
	n := 0
	seen := 0
	for _, it := range f.items {
		read, ok := cs.known[it.ServerID]
		switch {
		case !ok:
			n++
		case read != it.Read:
			n++
			seen++
		default:
			seen++
		}
	}
	return n + len(cs.known) - seen
}

// Views for the admin API.

// AttachmentInfo describes one attachment of a stored message.
type AttachmentInfo struct {
	Name          string `json:"name"`
	ContentType   string `json:"content_type"`
	Size          int    `json:"size"`
	SHA256        string `json:"sha256"`
	FileReference string `json:"file_reference,omitempty"`
	Inline        bool   `json:"inline,omitempty"`
}

// MessageInfo describes a stored or sent message, without its content.
type MessageInfo struct {
	ServerID    string           `json:"server_id,omitempty"`
	From        string           `json:"from"`
	To          string           `json:"to"`
	Cc          string           `json:"cc,omitempty"`
	Subject     string           `json:"subject"`
	MessageID   string           `json:"message_id,omitempty"`
	Date        time.Time        `json:"date"`
	Received    time.Time        `json:"received"`
	Read        bool             `json:"read"`
	Size        int              `json:"size"`
	SHA256      string           `json:"sha256"`
	SMIME       string           `json:"smime,omitempty"`
	Attachments []AttachmentInfo `json:"attachments"`
}

// FolderInfo describes a folder and its messages.
type FolderInfo struct {
	ServerID string        `json:"server_id"`
	Name     string        `json:"name"`
	Type     int           `json:"type"`
	Class    string        `json:"class"`
	Messages []MessageInfo `json:"messages"`
}

// MailboxInfo is what GET /admin/v1/mailboxes/{user} returns.
type MailboxInfo struct {
	User     string       `json:"user"`
	Email    string       `json:"email"`
	Redirect string       `json:"redirect,omitempty"`
	Folders  []FolderInfo `json:"folders"`
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func messageInfo(it *item) MessageInfo {
	pm := it.Msg
	mi := MessageInfo{ServerID: it.ServerID, From: pm.From, To: pm.To, Cc: pm.Cc, Subject: pm.Subject, MessageID: pm.MessageID,
		Date: pm.Date, Received: it.Received, Read: it.Read, Size: len(it.Raw), SHA256: sha(it.Raw), SMIME: pm.SMIME,
		Attachments: []AttachmentInfo{}}
	for i, a := range pm.Attachments {
		ai := AttachmentInfo{Name: a.Name, ContentType: a.ContentType, Size: len(a.Data), SHA256: sha(a.Data), Inline: a.Inline}
		if it.ServerID != "" {
			ai.FileReference = it.fileRef(i)
		}
		mi.Attachments = append(mi.Attachments, ai)
	}
	return mi
}

func (m *mailbox) info() MailboxInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	mi := MailboxInfo{User: m.user.Name, Email: m.user.Email, Redirect: m.redirect}
	for _, f := range m.folders {
		fi := FolderInfo{ServerID: f.ID, Name: f.Name, Type: f.Type, Class: f.Class, Messages: []MessageInfo{}}
		for _, it := range f.items {
			fi.Messages = append(fi.Messages, messageInfo(it))
		}
		mi.Folders = append(mi.Folders, fi)
	}
	return mi
}

// OutboundMessage is a message sent to recipients outside this server.
type OutboundMessage struct {
	MessageInfo
	Sender     string    `json:"sender"`
	Recipients []string  `json:"recipients"`
	SentAt     time.Time `json:"sent_at"`
	Command    string    `json:"command"`
}

// recipients lists the addresses of To, Cc and Bcc.
func recipients(pm *ParsedMessage) []string {
	var out []string
	for _, h := range []string{pm.To, pm.Cc, pm.Bcc} {
		if strings.TrimSpace(h) == "" {
			continue
		}
		list, err := mail.ParseAddressList(h)
		if err != nil {
			for _, a := range strings.Split(h, ",") {
				if a = strings.TrimSpace(a); strings.Contains(a, "@") {
					out = append(out, strings.Trim(a, "<>"))
				}
			}
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// displayNames renders the names of an address list for email:DisplayTo.
func displayNames(h string) string {
	list, err := mail.ParseAddressList(h)
	if err != nil {
		return h
	}
	names := make([]string, 0, len(list))
	for _, a := range list {
		if a.Name != "" {
			names = append(names, a.Name)
		} else {
			names = append(names, a.Address)
		}
	}
	return strings.Join(names, "; ")
}

func userAddress(u User) string {
	if u.DisplayName == "" {
		return "<" + u.Email + ">"
	}
	return fmt.Sprintf("%q <%s>", u.DisplayName, u.Email)
}
