package uem

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ---- gateway entries (ENT) ----

func tokenKey(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return string(h[:])
}

func (s *store) addGatewayLocked(g GatewayEntry) (*GatewayEntry, error) {
	if g.ID == "" {
		g.ID = "gw-" + randomHex(4)
	}
	if _, ok := s.gateways[g.ID]; ok {
		return nil, uemapi.Errorf(uemapi.CodeConflict, "gateway %q exists", g.ID)
	}
	if g.Host == "" {
		return nil, uemapi.FieldError("host", "is required")
	}
	if g.Port == 0 {
		g.Port = DefaultGatewayPort
	}
	if g.Port < 1 || g.Port > 65535 {
		return nil, uemapi.FieldError("port", "must be 1-65535")
	}
	if g.Token == "" {
		g.Token = randomHex(24)
	}
	if len(g.Token) < 16 {
		return nil, uemapi.FieldError("token", "must be at least 16 characters")
	}
	if _, ok := s.gwByToken[tokenKey(g.Token)]; ok {
		return nil, uemapi.Errorf(uemapi.CodeConflict, "token already used by another gateway")
	}
	if len(g.NotifySecret) == 0 {
		g.NotifySecret = make([]byte, 32)
		_, _ = rand.Read(g.NotifySecret)
	}
	if len(g.NotifySecret) < uemapi.MinNotifySecret {
		// Gateways refuse a shorter secret (it signs device decisions).
		return nil, uemapi.FieldError("notify_secret", "must be at least %d bytes", uemapi.MinNotifySecret)
	}
	if g.NotificationURL == "" {
		g.NotificationURL = "https://" + net.JoinHostPort(g.Host, strconv.Itoa(g.Port)) + NotificationPath
	}
	if u, err := url.Parse(g.NotificationURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, uemapi.FieldError("notification_url", "must be an http(s) URL")
	}
	if isZeroConfig(g.Config) {
		g.Config = uemapi.DefaultGatewayConfig()
	}
	if err := g.Config.Validate(); err != nil {
		return nil, prefixField(err, "config.")
	}
	g.ConfigVersion = 1
	g.Status, g.Errors, g.Version, g.LastContact, g.PendingChanges = "", nil, "", time.Time{}, false
	p := &g
	s.gateways[g.ID] = p
	s.gwByToken[tokenKey(g.Token)] = p
	return p, nil
}

func isZeroConfig(c uemapi.GatewayConfig) bool {
	return !c.ActiveSync.Enabled && !c.AppTunnel.Enabled && len(c.ActiveSync.Services) == 0 && c.Servers.Scheduling == ""
}

func prefixField(err error, prefix string) error {
	if e, ok := err.(*uemapi.Error); ok && e.Field != "" {
		cp := *e
		cp.Field = prefix + cp.Field
		return &cp
	}
	return err
}

func (s *store) gatewayByToken(tok string) *GatewayEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gwByToken[tokenKey(tok)]
}

// touchGateway records contact and the reported version (FLOW-15).
func (s *store) touchGateway(id, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.gateways[id]; g != nil {
		g.LastContact = s.now().UTC()
		if version != "" {
			g.Version = version
		}
	}
}

func (s *store) gateway(id string) (GatewayEntry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.gateways[id]
	if !ok {
		return GatewayEntry{}, uemapi.Errorf(uemapi.CodeNotFound, "no gateway %q", id)
	}
	return cloneGateway(g), nil
}

func cloneGateway(g *GatewayEntry) GatewayEntry {
	c := *g
	c.Errors = slices.Clone(g.Errors)
	return c
}

// setGatewayConfig validates and saves a gateway's configuration and pushes
// a config.changed notification (ENT-01); a disabled entry keeps the change
// pending until enabled (ENT-04).
func (s *store) setGatewayConfig(id string, cfg uemapi.GatewayConfig) (GatewayEntry, error) {
	if err := cfg.Validate(); err != nil {
		return GatewayEntry{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.gateways[id]
	if !ok {
		return GatewayEntry{}, uemapi.Errorf(uemapi.CodeNotFound, "no gateway %q", id)
	}
	g.Config = cfg
	s.bumpConfig(g)
	return cloneGateway(g), nil
}

func (s *store) bumpConfig(g *GatewayEntry) {
	g.ConfigVersion++
	if !g.Enabled {
		g.PendingChanges = true
		g.Status = "Pending"
		return
	}
	s.out.enqueue(g.ID, uemapi.Notification{Type: uemapi.NotifyConfig, Config: &uemapi.ConfigChange{Version: g.ConfigVersion}})
}

func (s *store) setGatewayEnabled(id string, enabled bool) (GatewayEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.gateways[id]
	if !ok {
		return GatewayEntry{}, uemapi.Errorf(uemapi.CodeNotFound, "no gateway %q", id)
	}
	if g.Enabled == enabled {
		return GatewayEntry{}, uemapi.Errorf(uemapi.CodeActionNotAllowed, "gateway %s is already %s", id, map[bool]string{true: "enabled", false: "disabled"}[enabled])
	}
	g.Enabled = enabled
	if enabled && g.PendingChanges {
		g.PendingChanges = false
		s.out.enqueue(g.ID, uemapi.Notification{Type: uemapi.NotifyConfig, Config: &uemapi.ConfigChange{Version: g.ConfigVersion}})
	}
	return cloneGateway(g), nil
}

func (s *store) deleteGateway(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.gateways[id]
	if !ok {
		return uemapi.Errorf(uemapi.CodeNotFound, "no gateway %q", id)
	}
	delete(s.gateways, id)
	delete(s.gwByToken, tokenKey(g.Token))
	return nil
}

// recordPush sets the entry's status after a notification delivery.
func (s *store) recordPush(gatewayID string, n uemapi.Notification, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gateways[gatewayID]
	if g == nil {
		return
	}
	if err == nil {
		g.Status = "Success"
		return
	}
	g.Status = "Error"
	g.Errors = append(g.Errors, PushError{Time: s.now().UTC(), NotificationID: n.ID, Type: string(n.Type), Error: err.Error()})
	if len(g.Errors) > 100 {
		g.Errors = slices.Delete(g.Errors, 0, len(g.Errors)-100)
	}
}

// target returns what the notifier needs to push to a gateway.
func (s *store) target(id string) (url string, secret []byte, enabled, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.gateways[id]
	if g == nil {
		return "", nil, false, false
	}
	return g.NotificationURL, g.NotifySecret, g.Enabled, true
}

func (s *store) configDocument(id string) (uemapi.ConfigDocument, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g, ok := s.gateways[id]
	if !ok {
		return uemapi.ConfigDocument{}, uemapi.Errorf(uemapi.CodeNotFound, "no gateway %q", id)
	}
	return uemapi.ConfigDocument{GatewayID: id, Version: g.ConfigVersion, Config: g.Config, PolicyBehavior: s.prefs.DefaultPolicyBehavior}, nil
}

// ---- preferences and the attachment key (PREF, ATT) ----

func (p Preferences) validate() error {
	switch p.DefaultPolicyBehavior {
	case uemapi.PolicyApplyServer, uemapi.PolicyRemoveServer:
	default:
		return uemapi.FieldError("default_policy_behavior", "must be apply_server_policy or remove_server_policy")
	}
	if p.IntegratedSyncIntervalMinutes < 1 || p.IntegratedSyncIntervalMinutes > 10080 {
		return uemapi.FieldError("integrated_sync_interval_minutes", "must be 1-10080")
	}
	if p.ServiceAccountNotificationEmail != "" {
		for _, a := range strings.Split(p.ServiceAccountNotificationEmail, ",") {
			if _, err := mail.ParseAddress(strings.TrimSpace(a)); err != nil {
				return uemapi.FieldError("service_account_notification_email", "%q is not an email address", strings.TrimSpace(a))
			}
		}
	}
	return nil
}

func (s *store) setPreferences(p Preferences) (Preferences, error) {
	if err := p.validate(); err != nil {
		return Preferences{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.prefs
	s.prefs = p
	// The config document carries the default policy behaviour.
	if old.DefaultPolicyBehavior != p.DefaultPolicyBehavior {
		for _, id := range s.gatewayIDs() {
			s.bumpConfig(s.gateways[id])
		}
	}
	return p, nil
}

// keyAlgorithm applies ATT-08: AES-128 when Docs@Work (Original) is on or
// a registered gateway reported a version older than 6.1.
func (s *store) keyAlgorithm() uemapi.KeyAlgorithm {
	if s.prefs.DocsAtWorkOriginal {
		return uemapi.AES128ECB
	}
	for _, g := range s.gateways {
		if olderThan61(g.Version) {
			return uemapi.AES128ECB
		}
	}
	return uemapi.AES256GCM
}

// olderThan61 reports whether a dotted version is below 6.1; an unparsable
// version (e.g. "dev") is not.
func olderThan61(v string) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	maj, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return maj < 6 || maj == 6 && minor < 1
}

// newKeyLocked generates an attachment key; the algorithm is fixed at
// generation (ATT-09).
func (s *store) newKeyLocked() *uemapi.AttachmentKey {
	alg := s.keyAlgorithm()
	k := &uemapi.AttachmentKey{ID: "k-" + randomHex(6), Algorithm: alg, CreatedAt: s.now().UTC()}
	k.Key = make([]byte, 32)
	if alg == uemapi.AES128ECB {
		k.Key = k.Key[:16]
	}
	_, _ = rand.Read(k.Key)
	return k
}

// attachmentKey returns the key, generating it on first use (ATT-10).
func (s *store) attachmentKey() uemapi.AttachmentKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key == nil {
		s.key = s.newKeyLocked()
	}
	return *s.key
}

// regenerateKey replaces the key and notifies every gateway (ATT-11).
func (s *store) regenerateKey() uemapi.AttachmentKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = s.newKeyLocked()
	s.broadcast(uemapi.Notification{Type: uemapi.NotifyKey, Key: &uemapi.KeyChange{KeyID: s.key.ID, Algorithm: s.key.Algorithm}})
	return *s.key
}

// ---- policies (ASP) ----

func (s *store) policyList() []uemapi.ActiveSyncPolicy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]uemapi.ActiveSyncPolicy, 0, len(s.policies))
	for _, p := range s.policies {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b uemapi.ActiveSyncPolicy) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *store) policy(id string) (uemapi.ActiveSyncPolicy, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.policies[id]
	if !ok {
		return uemapi.ActiveSyncPolicy{}, uemapi.Errorf(uemapi.CodeNotFound, "no policy %q", id)
	}
	return *p, nil
}

func (s *store) nameTaken(name, except string) bool {
	for _, p := range s.policies {
		if p.ID != except && strings.EqualFold(p.Name, name) {
			return true
		}
	}
	return false
}

func (s *store) createPolicyLocked(p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error) {
	if p.ID == "" {
		s.policySeq++
		p.ID = "p" + strconv.Itoa(s.policySeq)
		for s.policies[p.ID] != nil {
			s.policySeq++
			p.ID = "p" + strconv.Itoa(s.policySeq)
		}
	}
	if p.ID == uemapi.DefaultPolicyID || s.policies[p.ID] != nil {
		return uemapi.ActiveSyncPolicy{}, uemapi.Errorf(uemapi.CodeConflict, "policy %q exists", p.ID)
	}
	if err := p.Validate(); err != nil {
		return uemapi.ActiveSyncPolicy{}, err
	}
	if s.nameTaken(p.Name, "") {
		return uemapi.ActiveSyncPolicy{}, &uemapi.Error{Code: uemapi.CodeConflict, Field: "name", Message: fmt.Sprintf("a policy named %q exists", p.Name)}
	}
	p.Version = 1
	p.UpdatedAt = s.now().UTC()
	s.policies[p.ID] = &p
	return p, nil
}

// updatePolicy replaces a policy and pushes it to the devices it applies to
// (FLOW-09), in notifications of at most policyChunk devices.
func (s *store) updatePolicy(id string, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error) {
	p.ID = id
	if err := p.Validate(); err != nil {
		return uemapi.ActiveSyncPolicy{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.policies[id]
	if !ok {
		return uemapi.ActiveSyncPolicy{}, uemapi.Errorf(uemapi.CodeNotFound, "no policy %q", id)
	}
	if id == uemapi.DefaultPolicyID && p.Name != uemapi.DefaultPolicyName {
		return uemapi.ActiveSyncPolicy{}, uemapi.FieldError("name", "the default policy cannot be renamed")
	}
	if s.nameTaken(p.Name, id) {
		return uemapi.ActiveSyncPolicy{}, &uemapi.Error{Code: uemapi.CodeConflict, Field: "name", Message: fmt.Sprintf("a policy named %q exists", p.Name)}
	}
	p.Version = old.Version + 1
	p.UpdatedAt = s.now().UTC()
	s.policies[id] = &p
	var refs []uemapi.DeviceRef
	// Each notification must fit the receivers' body limit: the policy,
	// the envelope and the device list, counted as encoded.
	pb, _ := json.Marshal(p)
	budget := uemapi.MaxNotificationBody - len(pb) - notifyEnvelope
	size := 0
	flush := func() {
		if len(refs) > 0 {
			s.broadcast(uemapi.Notification{Type: uemapi.NotifyPolicy, Policy: &uemapi.PolicyChange{Policy: p, Devices: refs}})
			refs, size = nil, 0
		}
	}
	for _, a := range s.assocs {
		if a != nil && a.ro().policyID == id && a.State() != uemapi.StateWiped {
			ref := uemapi.DeviceRef{EASDeviceID: a.eas, User: a.userName}
			rb, _ := json.Marshal(ref)
			if len(refs) == policyChunk || size+len(rb)+1 > budget {
				flush()
			}
			refs, size = append(refs, ref), size+len(rb)+1
		}
	}
	flush()
	return p, nil
}

// policyChunk bounds the devices of one policy.changed notification.
const policyChunk = 1000

// notifyEnvelope is room for a notification's other fields (id, type,
// gateway id, time) around its member.
const notifyEnvelope = 1024

func (s *store) deletePolicy(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == uemapi.DefaultPolicyID {
		return uemapi.Errorf(uemapi.CodeActionNotAllowed, "the Default ActiveSync Policy cannot be deleted")
	}
	if _, ok := s.policies[id]; !ok {
		return uemapi.Errorf(uemapi.CodeNotFound, "no policy %q", id)
	}
	delete(s.policies, id)
	for _, a := range s.assocs {
		if a != nil && a.ro().policyID == id {
			a.rw().policyID = ""
			s.notifyDevice(a)
		}
	}
	return nil
}

// policyPhones counts the associations a policy is applied to (ASP-16).
func (s *store) policyPhones(id string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, a := range s.assocs {
		if a != nil && a.ro().policyID == id {
			n++
		}
	}
	return n
}
