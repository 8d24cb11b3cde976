// The device's mailbox commands: FolderSync, Sync, Ping, SendMail and
// ItemOperations (attachments), each one recorded round trip or more.

package device

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Inbox returns the Inbox's ServerId, "" before a FolderSync.
func (d *Device) Inbox() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inbox
}

// FolderSync fetches the folder hierarchy (from SyncKey 0 the first time).
func (d *Device) FolderSync(ctx context.Context) error {
	d.mu.Lock()
	key := d.folderKey
	d.mu.Unlock()
	if key == "" {
		key = "0"
	}
	body, _ := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: key})
	var resp eas.FolderSyncResponse
	if _, _, err := d.command(ctx, eas.CmdFolderSync, body, params{}, &resp); err != nil {
		return err
	}
	if resp.Status != 1 {
		if resp.Status == 9 { // bad sync key: start over next time
			d.mu.Lock()
			d.folderKey = ""
			d.mu.Unlock()
		}
		return &StatusError{Cmd: eas.CmdFolderSync, HTTPStatus: http.StatusOK, Status: resp.Status}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.folderKey = resp.SyncKey
	if resp.Changes != nil {
		for _, f := range resp.Changes.Add {
			if f.Type == 2 {
				d.inbox = f.ServerId
			}
		}
	}
	return nil
}

// Sync brings the Inbox up to date (priming its sync key first) and
// returns how many new messages arrived. It runs FolderSync if needed.
func (d *Device) Sync(ctx context.Context) (int, error) {
	if d.Inbox() == "" {
		if err := d.FolderSync(ctx); err != nil {
			return 0, err
		}
		if d.Inbox() == "" {
			return 0, errors.New("device: no Inbox in the folder hierarchy")
		}
	}
	added := 0
	for range 20 { // MoreAvailable rounds
		d.mu.Lock()
		inbox := d.inbox
		key := d.syncKeys[inbox]
		d.mu.Unlock()
		if key == "" {
			key = "0"
		}
		col := eas.SyncCollection{SyncKey: key, CollectionId: inbox, WindowSize: 50,
			Options: []eas.SyncOptions{{MIMESupport: eas.Ptr(0), BodyPreference: []eas.BodyPreference{{Type: eas.BodyPlainText, TruncationSize: 512}}}}}
		if key == "0" {
			col.Options = nil
		}
		if d.cfg.Version == eas.V121 {
			col.Class = "Email"
		}
		body, _ := wbxml.MarshalStruct(&eas.SyncRequest{Collections: []eas.SyncCollection{col}})
		var resp eas.SyncResponse
		if _, _, err := d.command(ctx, eas.CmdSync, body, params{}, &resp); err != nil {
			return added, err
		}
		if resp.Status > 1 {
			return added, &StatusError{Cmd: eas.CmdSync, HTTPStatus: http.StatusOK, Status: resp.Status}
		}
		more := false
		d.mu.Lock()
		for _, c := range resp.Collections {
			if c.CollectionId != inbox {
				continue
			}
			if c.Status == 3 || c.Status == 12 { // invalid key or hierarchy changed: start over
				delete(d.syncKeys, inbox)
				if c.Status == 12 {
					d.folderKey, d.inbox = "", ""
				}
				d.mu.Unlock()
				return added, &StatusError{Cmd: eas.CmdSync, HTTPStatus: http.StatusOK, Status: c.Status}
			}
			if d.syncKeys == nil {
				d.syncKeys = map[string]string{}
			}
			d.syncKeys[inbox] = c.SyncKey
			if c.Commands != nil {
				for _, it := range c.Commands.Add {
					d.messages = append(d.messages, toMessage(it))
					added++
				}
			}
			more = c.MoreAvailable || key == "0"
		}
		d.mu.Unlock()
		if !more {
			return added, nil
		}
	}
	return added, nil
}

func toMessage(it eas.SyncItem) Message {
	m := Message{ServerID: it.ServerId}
	if e := it.ApplicationData; e != nil {
		m.Subject = e.Subject
		for _, a := range e.Attachments {
			m.Attachments = append(m.Attachments, Attachment{Name: a.DisplayName, FileReference: a.FileReference, Size: a.EstimatedDataSize})
		}
	}
	return m
}

// Ping watches the Inbox for heartbeat seconds. It blocks until the
// server answers: Status 2 (changes, with the folders) or 1 (expired).
func (d *Device) Ping(ctx context.Context, heartbeat int) (int, []string, error) {
	if d.Inbox() == "" {
		if err := d.FolderSync(ctx); err != nil {
			return 0, nil, err
		}
	}
	body, _ := wbxml.MarshalStruct(&eas.PingRequest{HeartbeatInterval: heartbeat, Folders: []eas.PingFolder{{Id: d.Inbox(), Class: "Email"}}})
	var resp eas.PingResponse
	if _, _, err := d.command(ctx, eas.CmdPing, body, params{}, &resp); err != nil {
		return 0, nil, err
	}
	if resp.Status > 2 {
		return resp.Status, nil, &StatusError{Cmd: eas.CmdPing, HTTPStatus: http.StatusOK, Status: resp.Status}
	}
	return resp.Status, resp.Folders, nil
}

// SendMail sends a plain-text message and saves it in Sent Items.
func (d *Device) SendMail(ctx context.Context, to []string, subject, text string) error {
	mime := buildMIME(d.cfg.Email, to, subject, text, time.Now())
	if d.cfg.Version == eas.V121 {
		_, _, err := d.command(ctx, eas.CmdSendMail, mime, params{saveInSent: true, contentType: "message/rfc822"}, nil)
		return err
	}
	body, _ := wbxml.MarshalStruct(&eas.SendMail{ClientId: fmt.Sprintf("%s-%d", d.cfg.ID, time.Now().UnixNano()), SaveInSentItems: true, Mime: mime})
	_, data, err := d.command(ctx, eas.CmdSendMail, body, params{}, nil)
	if err != nil {
		return err
	}
	if len(data) > 0 { // success has an empty body
		if doc, perr := wbxml.Parse(data, wbxml.Limits{}); perr == nil {
			if st := globalStatus(doc.Root); st != 0 && st != 1 {
				return &StatusError{Cmd: eas.CmdSendMail, HTTPStatus: http.StatusOK, Status: st}
			}
		}
	}
	return nil
}

// FetchAttachment downloads an attachment by its FileReference with
// ItemOperations and returns its bytes and content type.
func (d *Device) FetchAttachment(ctx context.Context, fileRef string) ([]byte, string, error) {
	body, _ := wbxml.MarshalStruct(&eas.ItemOperationsRequest{Fetch: []eas.FetchRequest{{Store: "Mailbox", FileReference: fileRef}}})
	var resp eas.ItemOperationsResponse
	if _, _, err := d.command(ctx, eas.CmdItemOperations, body, params{}, &resp); err != nil {
		return nil, "", err
	}
	if resp.Status != 1 || resp.Response == nil || len(resp.Response.Fetch) == 0 {
		return nil, "", &StatusError{Cmd: eas.CmdItemOperations, HTTPStatus: http.StatusOK, Status: resp.Status}
	}
	f := resp.Response.Fetch[0]
	if f.Status != 1 || f.Properties == nil || f.Properties.Data == nil {
		return nil, "", &StatusError{Cmd: eas.CmdItemOperations, HTTPStatus: http.StatusOK, Status: f.Status}
	}
	data, err := decodeBase64(*f.Properties.Data)
	return data, f.Properties.ContentType, err
}
