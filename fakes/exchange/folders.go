package exchange

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// FolderCreate, FolderUpdate and FolderDelete status values (MS-ASCMD
// 2.2.3.177.3, .5 and .6; the same code means the same thing in all three
// where it exists).
const (
	folderOK          = 1
	folderExists      = 2 // FolderCreate: the name exists; FolderUpdate: the name exists or a special folder
	folderSpecial     = 3 // FolderDelete: a special (default) folder
	folderNotFound    = 4 // FolderDelete, FolderUpdate: no such folder
	folderNoParent    = 5 // FolderCreate, FolderUpdate: no such parent
	folderBadSyncKey  = 9
	folderBadRequest  = 10
	firstUserFolderID = 100
)

// userFolderClass maps the Type a client may give a folder it creates
// (MS-ASCMD 2.2.3.186.3, 12-19) to its class.
var userFolderClass = map[int]string{12: "Email", 13: "Calendar", 14: "Contacts", 15: "Tasks", 16: "Journal", 17: "Notes", 18: "Email", 19: "Email"}

// folderOp checks the request's SyncKey against the device's hierarchy
// key; on success it runs op under the mailbox lock and, when op changed
// the hierarchy, gives the device a new key and a snapshot that already
// holds the change (the device made it, so FolderSync must not echo it).
func (s *Server) folderOp(rc *reqCtx, root string, op func(m *mailbox, req *wbxml.Node) (int, []*wbxml.Node)) {
	req := s.decodeTree(rc, root)
	if req == nil {
		return
	}
	m := rc.mb
	m.mu.Lock()
	d := m.device(rc.deviceID())
	var st int
	var extra []*wbxml.Node
	switch key := text(req, "FolderHierarchy:SyncKey"); {
	case key == "":
		st = folderBadRequest
	case d.folderKey == "" || key != d.folderKey:
		st = folderBadSyncKey
	default:
		st, extra = op(m, req)
	}
	resp := el(root, txt("FolderHierarchy:Status", itoa(st)))
	if st == folderOK {
		d.folderKey, d.folderSnap = m.newKeyLocked(), m.snapshotLocked()
		resp.Children = append(resp.Children, txt("FolderHierarchy:SyncKey", d.folderKey))
		resp.Children = append(resp.Children, extra...)
	}
	m.mu.Unlock()
	s.writeTree(rc, resp)
}

func (s *Server) cmdFolderCreate(rc *reqCtx) {
	s.folderOp(rc, "FolderHierarchy:FolderCreate", func(m *mailbox, req *wbxml.Node) (int, []*wbxml.Node) {
		parent, name := text(req, "FolderHierarchy:ParentId"), strings.TrimSpace(text(req, "FolderHierarchy:DisplayName"))
		typ, err := strconv.Atoi(text(req, "FolderHierarchy:Type"))
		class, okType := userFolderClass[typ]
		switch {
		case name == "" || err != nil || !okType || kid(req, "FolderHierarchy:ParentId") == nil:
			return folderBadRequest, nil
		case parent != "0" && m.byID[parent] == nil:
			return folderNoParent, nil
		case m.childNamedLocked(parent, name) != nil:
			return folderExists, nil
		}
		f := m.newFolderLocked(parent, name, class, typ)
		return folderOK, []*wbxml.Node{txt("FolderHierarchy:ServerId", f.ID)}
	})
}

func (s *Server) cmdFolderUpdate(rc *reqCtx) {
	s.folderOp(rc, "FolderHierarchy:FolderUpdate", func(m *mailbox, req *wbxml.Node) (int, []*wbxml.Node) {
		id, parent := text(req, "FolderHierarchy:ServerId"), text(req, "FolderHierarchy:ParentId")
		name := strings.TrimSpace(text(req, "FolderHierarchy:DisplayName"))
		f := m.byID[id]
		switch {
		case id == "" || name == "" || kid(req, "FolderHierarchy:ParentId") == nil:
			return folderBadRequest, nil
		case f == nil:
			return folderNotFound, nil
		case isDefaultFolder(id):
			return folderExists, nil // special folders cannot be updated (code 2)
		case parent != "0" && (m.byID[parent] == nil || m.isDescendantLocked(parent, id)):
			return folderNoParent, nil
		}
		if other := m.childNamedLocked(parent, name); other != nil && other != f {
			return folderExists, nil
		}
		f.ParentID, f.Name = parent, name
		return folderOK, nil
	})
}

func (s *Server) cmdFolderDelete(rc *reqCtx) {
	s.folderOp(rc, "FolderHierarchy:FolderDelete", func(m *mailbox, req *wbxml.Node) (int, []*wbxml.Node) {
		id := text(req, "FolderHierarchy:ServerId")
		switch {
		case id == "":
			return folderBadRequest, nil
		case m.byID[id] == nil:
			return folderNotFound, nil
		case isDefaultFolder(id):
			return folderSpecial, nil
		}
		m.deleteFolderLocked(id)
		return folderOK, nil
	})
}

func isDefaultFolder(id string) bool {
	for _, f := range defaultFolders {
		if f.id == id {
			return true
		}
	}
	return false
}

func (m *mailbox) childNamedLocked(parent, name string) *folder {
	for _, f := range m.folders {
		if f.ParentID == parent && strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// isDescendantLocked reports whether id is root or below it (moving a
// folder under itself would make a cycle).
func (m *mailbox) isDescendantLocked(id, root string) bool {
	for i := 0; i < len(m.folders)+1 && id != "0"; i++ {
		if id == root {
			return true
		}
		f := m.byID[id]
		if f == nil {
			return false
		}
		id = f.ParentID
	}
	return false
}

func (m *mailbox) newFolderLocked(parent, name, class string, typ int) *folder {
	if m.nextFolder < firstUserFolderID {
		m.nextFolder = firstUserFolderID
	}
	f := &folder{ID: strconv.Itoa(m.nextFolder), ParentID: parent, Name: name, Class: class, Type: typ}
	m.nextFolder++
	m.folders = append(m.folders, f)
	m.byID[f.ID] = f
	m.notifyLocked(f)
	return f
}

// deleteFolderLocked removes the folder, its subfolders and their items.
func (m *mailbox) deleteFolderLocked(id string) {
	doomed := map[string]bool{}
	for _, f := range m.folders {
		if m.isDescendantLocked(f.ID, id) {
			doomed[f.ID] = true
		}
	}
	m.folders = slices.DeleteFunc(m.folders, func(f *folder) bool { return doomed[f.ID] })
	for fid := range doomed {
		delete(m.byID, fid)
		for _, d := range m.devices {
			delete(d.cols, fid)
		}
	}
	close(m.changed) // wake Pings: a watched folder may be gone
	m.changed = make(chan struct{})
}
