package uemsync

import (
	"fmt"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/identity"
)

// deviceKey is the cache key of the ActiveSync association the UEM names.
// The UEM spells a user as it was registered ("CORP\alice",
// "alice@corp.example", "ALICE"); the gateway keys on the authenticated
// user normalised once (identity.Normalize), so every key built from UEM
// data is normalised the same way, or an entry would be missed, and
// dropped at each resync. A name with control characters is refused: it
// must reach neither the cache nor a log nor `ctl` output.
func deviceKey(deviceID, user string) (devicecache.Key, error) {
	if err := identity.Check(deviceID); err != nil {
		return devicecache.Key{}, fmt.Errorf("device id: %w", err)
	}
	u, err := identity.Normalize(user)
	if err != nil {
		return devicecache.Key{}, fmt.Errorf("user: %w", err)
	}
	return devicecache.Key{DeviceID: deviceID, User: u}, nil
}

// appKey is deviceKey for an app tunnel entry (SCOPE-10).
func appKey(deviceUUID, user, app string) (devicecache.Key, error) {
	k, err := deviceKey(deviceUUID, user)
	if err != nil {
		return k, err
	}
	if err := identity.Check(app); err != nil {
		return devicecache.Key{}, fmt.Errorf("app id: %w", err)
	}
	k.App = app
	return k, nil
}
