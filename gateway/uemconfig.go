package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/internal/atomicfile"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// refreshConfig fetches the UEM's configuration for this gateway and
// applies what the gateway uses from it, without touching the cache.
func (s *Server) refreshConfig(ctx context.Context) error {
	s.mu.Lock()
	etag := s.configETag
	s.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	doc, newTag, err := s.uem.Config(cctx, etag)
	if errors.Is(err, uemapi.ErrNotModified) {
		return nil
	}
	if err != nil {
		// Run on the configuration last received, as the product does
		// after a restart with the UEM unreachable.
		if etag == "" {
			s.useCachedConfig()
		}
		return fmt.Errorf("gateway: fetch configuration: %w", err)
	}
	if err := doc.Config.Validate(); err != nil {
		return fmt.Errorf("gateway: configuration %d refused: %w", doc.Version, err)
	}
	if err := s.applyConfig(doc); err != nil {
		return fmt.Errorf("gateway: configuration %d refused: %w", doc.Version, err)
	}
	s.configVersion.Store(doc.Version)
	if err := s.saveCachedConfig(doc); err != nil {
		s.log.Warn("keeping a copy of the configuration", "error", err)
	}
	s.mu.Lock()
	s.configETag = newTag
	s.mu.Unlock()
	return nil
}

// applyConfig puts a validated configuration document to use: device
// authentication, attachment control, Kerberos, incoming TLS, timeouts,
// the default policy behaviour and the ActiveSync servers.
func (s *Server) applyConfig(doc *uemapi.ConfigDocument) error {
	auth, err := s.deviceAuth(doc.Config.DeviceAuth)
	if err != nil {
		return err
	}
	if err := s.applyAttachmentControl(doc.Config.AttachmentControl); err != nil {
		return err
	}
	if err := s.applyKerberos(doc.Config.Kerberos); err != nil {
		return err
	}
	s.as.SetDeviceAuth(auth)
	s.applyAppTunnel(doc.Config, auth)
	s.wantCert.Store(auth.WantsClientCert())
	s.incoming.Store(s.buildIncoming(doc.Config.TLS))
	hsts := hstsHeader(doc.Config.TLS)
	s.hsts.Store(&hsts)
	s.socketRW.Store(int64(msDuration(doc.Config.Timeouts.SocketReadWriteMs)))
	s.deviceRequest.Store(int64(msDuration(doc.Config.Timeouts.DeviceRequestMs)))
	s.link.SetDefaultBehavior(doc.PolicyBehavior)
	if err := s.applyOAuth(doc.Config); err != nil {
		return err
	}
	if s.cfg.Upstream != "" || len(doc.Config.ActiveSync.Services) == 0 {
		return nil // a bootstrap --upstream wins over the UEM's services
	}
	return s.applyServers(doc.Config)
}

// deviceAuth builds the device authentication the UEM configured, with
// the bootstrap's front ends and the gateway's CRL cache.
func (s *Server) deviceAuth(c uemapi.DeviceAuth) (*deviceauth.Authenticator, error) {
	var fronts []netip.Prefix
	for _, fe := range s.cfg.FrontEnds {
		fronts = append(fronts, netip.MustParsePrefix(fe)) // validated in Config.Validate
	}
	return deviceauth.New(c, deviceauth.Options{FrontEnds: fronts, CRLs: s.crls})
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

func (s *Server) configCachePath() string { return filepath.Join(s.cfg.DataDir, "uem-config.json") }

// saveCachedConfig keeps the last configuration document; a crash never
// leaves half a file.
func (s *Server) saveCachedConfig(doc *uemapi.ConfigDocument) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return atomicfile.Write(s.configCachePath(), b, 0o600)
}

// useCachedConfig applies the configuration kept in the data directory,
// if there is one and it is sound. A document that does not parse or does
// not pass the UEM's own validation is refused whole, with an error
// naming the problem: the gateway keeps its bootstrap settings rather
// than run on half of a damaged file.
func (s *Server) useCachedConfig() {
	cached, err := s.loadCachedConfig()
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		if err = s.applyConfig(cached); err != nil {
			err = fmt.Errorf("gateway: cached configuration %d not applied: %w", cached.Version, err)
		}
	}
	if err != nil {
		s.log.Error("last configuration received from the UEM refused; using the bootstrap settings", "file", s.configCachePath(), "error", err)
		return
	}
	s.configVersion.Store(cached.Version)
	s.log.Warn("using the last configuration received from the UEM", "version", cached.Version)
}

// loadCachedConfig reads the kept configuration and validates it as a
// document from the UEM is validated: the file is only as trustworthy as
// the disk it sits on.
func (s *Server) loadCachedConfig() (*uemapi.ConfigDocument, error) {
	b, err := os.ReadFile(s.configCachePath())
	if err != nil {
		return nil, err
	}
	doc, err := uemapi.DecodeConfigDocument(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gateway: cached configuration: %w", err)
	}
	if err := doc.Config.Validate(); err != nil {
		return nil, fmt.Errorf("gateway: cached configuration %d: %w", doc.Version, err)
	}
	return doc, nil
}
