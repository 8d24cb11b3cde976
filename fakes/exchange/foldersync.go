package exchange

import "github.com/gatehouse-lab/gatehouse/protocol/eas"

// FolderSync status values (MS-ASCMD 2.2.3.177.6).
const (
	folderSyncSuccess    = 1
	folderSyncInvalidKey = 9
)

func (m *mailbox) snapshotLocked() map[string]folderMeta {
	snap := make(map[string]folderMeta, len(m.folders))
	for _, f := range m.folders {
		snap[f.ID] = folderMeta{parent: f.ParentID, name: f.Name, typ: f.Type}
	}
	return snap
}

func (s *Server) cmdFolderSync(rc *reqCtx) {
	var req eas.FolderSyncRequest
	if _, ok := s.decode(rc, &req); !ok {
		return
	}
	m := rc.mb
	m.mu.Lock()
	d := m.device(rc.deviceID())
	resp := eas.FolderSyncResponse{Status: folderSyncSuccess}
	switch {
	case req.SyncKey == "0":
		// A full resync also resets every collection's sync state.
		d.cols = map[string]*colState{}
		ch := &eas.FolderChanges{Count: eas.Ptr(len(m.folders))}
		for _, f := range m.folders {
			ch.Add = append(ch.Add, eas.Folder{ServerId: f.ID, ParentId: f.ParentID, DisplayName: f.Name, Type: f.Type})
		}
		d.folderKey, d.folderSnap = m.newKeyLocked(), m.snapshotLocked()
		resp.SyncKey, resp.Changes = d.folderKey, ch
	case d.folderKey == "" || req.SyncKey != d.folderKey:
		resp.Status = folderSyncInvalidKey
	default:
		ch := &eas.FolderChanges{}
		cur := m.snapshotLocked()
		for _, f := range m.folders {
			old, ok := d.folderSnap[f.ID]
			fo := eas.Folder{ServerId: f.ID, ParentId: f.ParentID, DisplayName: f.Name, Type: f.Type}
			switch {
			case !ok:
				ch.Add = append(ch.Add, fo)
			case old != cur[f.ID]:
				ch.Update = append(ch.Update, fo)
			}
		}
		for id := range d.folderSnap {
			if _, ok := cur[id]; !ok {
				ch.Delete = append(ch.Delete, eas.FolderDelete{ServerId: id})
			}
		}
		n := len(ch.Add) + len(ch.Update) + len(ch.Delete)
		ch.Count = eas.Ptr(n)
		if n > 0 {
			d.folderKey, d.folderSnap = m.newKeyLocked(), cur
		}
		resp.SyncKey, resp.Changes = d.folderKey, ch
	}
	m.mu.Unlock()
	s.writeWBXML(rc, &resp)
}
