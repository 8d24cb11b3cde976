package uemsync

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Policies holds the ActiveSync policies the UEM assigned to cached
// devices, by id. Entries in the device cache refer to them by id and
// version, so a million devices share a handful of policies.
type Policies struct {
	mu sync.RWMutex
	m  map[string]*uemapi.ActiveSyncPolicy
}

// NewPolicies returns an empty policy set.
func NewPolicies() *Policies { return &Policies{m: make(map[string]*uemapi.ActiveSyncPolicy)} }

// Put stores p (replacing an older version) and reports whether its
// content version changed.
func (p *Policies) Put(pol *uemapi.ActiveSyncPolicy) bool {
	if pol == nil || pol.ID == "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, ok := p.m[pol.ID]
	p.m[pol.ID] = pol
	return !ok || old.Version != pol.Version
}

// Get returns the policy with the given id.
func (p *Policies) Get(id string) (*uemapi.ActiveSyncPolicy, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	pol, ok := p.m[id]
	return pol, ok
}

// versionOf is the cache's PolicyVersion for a policy ("" for none).
func versionOf(pol *uemapi.ActiveSyncPolicy) string {
	if pol == nil {
		return ""
	}
	return strconv.FormatInt(pol.Version, 10)
}

// Policy returns the ActiveSync policy with the given id, as the UEM last sent it.
func (l *Link) Policy(id string) (*uemapi.ActiveSyncPolicy, bool) { return l.cfg.Policies.Get(id) }

// putPolicy stores pol and, when it is new or changed, writes it to the
// persistent list, so that a restart with the UEM down still provisions
// devices with their assigned policy (found by gatehouse chaos,
// chaos/testdata/restart-keeps-policies.yaml).
func (l *Link) putPolicy(pol *uemapi.ActiveSyncPolicy) {
	if !l.cfg.Policies.Put(pol) || l.cfg.Store == nil {
		return
	}
	doc, err := json.Marshal(pol)
	if err == nil {
		err = l.cfg.Store.SavePolicy(pol.ID, doc)
	}
	if err != nil {
		l.cfg.Log.Warn("policy not written to the persistent list", "policy", pol.ID, "error", err)
	}
}

// loadPolicies takes the stored policies (the UEM's, when it answers,
// replace them).
func (l *Link) loadPolicies() error {
	return l.cfg.Store.Policies(func(id string, doc []byte) error {
		var pol uemapi.ActiveSyncPolicy
		if err := json.Unmarshal(doc, &pol); err != nil {
			return fmt.Errorf("policy %s: %w", id, err)
		}
		if _, ok := l.cfg.Policies.Get(id); !ok {
			l.cfg.Policies.Put(&pol)
		}
		return nil
	})
}
