package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/activesync"
	"github.com/gatehouse-lab/gatehouse/gateway/attachments"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// applyAttachmentControl turns attachment control on or off as the UEM
// says, fetching the attachment key when an option encrypts.
func (s *Server) applyAttachmentControl(ac uemapi.AttachmentControl) error {
	if !ac.Enabled {
		s.as.SetAttachmentControl(nil)
		return nil
	}
	pol, err := attachments.NewPolicy(ac, ac.WorkDomains)
	if err != nil {
		return err
	}
	encrypts := ac.IOSNative == uemapi.AttachEncrypt || ac.SecureApps == uemapi.AttachEncrypt || ac.OtherPlatforms == uemapi.AttachEncrypt
	if _, ok := s.keys.Current(); encrypts && !ok {
		if err := s.loadKey(context.Background()); err != nil {
			return err
		}
	}
	s.as.SetAttachmentControl(&activesync.AttachmentControl{Policy: pol, Rewriter: attachments.NewRewriter(pol, s.keys)})
	return nil
}

// loadKey fetches the UEM's current attachment key and makes it the only
// one: after a regeneration (ATT-11) attachments under the old key can no
// longer be decrypted, as the seeds say and as after a restart, so a
// device forwarding one gets it replaced by an explanation. The device
// cache survives; there is no restart.
func (s *Server) loadKey(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	k, err := s.uem.AttachmentKey(cctx)
	if err != nil {
		return fmt.Errorf("gateway: attachment key: %w", err)
	}
	key, err := attachments.KeyFromUEM(k)
	if err != nil {
		return fmt.Errorf("gateway: attachment key: %w", err)
	}
	return s.keys.Replace(key)
}
