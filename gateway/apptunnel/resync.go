package apptunnel

import (
	"context"
	"fmt"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ResyncResult counts what a tunnel resync changed.
type ResyncResult struct {
	Listed, Removed, Resolved int
}

// maxPages bounds one resync's walk of the UEM's list (10,000 per page).
const maxPages = 10000

// Resync pulls the UEM's whole tunnel list and applies it (FLOW-12):
// listed tunnels take the UEM's state; validated tunnel records the UEM
// no longer lists, and unchanged since the walk began, are dropped; and
// tunnels let in by fail-open are reported again.
func (t *Tunnels) Resync(ctx context.Context) (ResyncResult, error) {
	var res ResyncResult
	before := t.Cache.Snapshot(func(e devicecache.Entry) bool { return !e.ActiveSync() && e.Validated })
	listed := map[devicecache.Key]struct{}{}
	cursor := ""
	for range maxPages {
		page, err := t.UEM.AppTunnels(ctx, cursor, uemapi.MaxPageSize)
		if err != nil {
			return res, fmt.Errorf("apptunnel: resync: %w", err)
		}
		for _, at := range page.Items {
			key, err := Key(at.DeviceUUID, at.User, at.AppID)
			if err != nil {
				continue
			}
			t.apply(key, at.State, at.Reason, false, at.Version)
			listed[key] = struct{}{}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	res.Listed = len(listed)
	res.Removed = t.Cache.DeleteUnchanged(before, func(k devicecache.Key) bool {
		_, ok := listed[k]
		return !ok
	})
	var pending []devicecache.Entry
	t.Cache.Range(func(e devicecache.Entry) bool {
		if !e.ActiveSync() && !e.Validated {
			pending = append(pending, e)
		}
		return true
	})
	for _, e := range pending {
		at, err := t.UEM.ReportAppTunnel(ctx, uemapi.AppTunnelReport{AppID: e.App, User: e.User, DeviceUUID: e.DeviceID,
			Version: uemapi.TunnelVersion(e.ProtocolVersion)})
		if err != nil {
			if uemapi.Classify(err) != uemapi.Rejected {
				break
			}
			continue
		}
		t.apply(e.Key, at.State, at.Reason, false, "")
		res.Resolved++
	}
	return res, nil
}
