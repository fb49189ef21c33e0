package delivery

import (
	"context"

	"github.com/verigate/verigate"
)

// A verification's own webhookUrl is an endpoint of its own (SessionID
// set, hidden from listings) signed not with a secret of its own but with
// its organization's verification secret, so a partner checks every
// verification's deliveries, and the redirects back, with one secret.

// verificationSecretID is what an organization's verification secret is
// sealed to: no endpoint's secret opens as it, nor another mode's.
func verificationSecretID(org string, mode verigate.Mode) string {
	return "verification/" + org + "/" + string(mode)
}

// ErrNoVerificationSecret answers a read of a secret not yet made.
var ErrNoVerificationSecret = verigate.Errorf(verigate.ENOTFOUND,
	"This organization has no verification secret in this mode yet: rotating it makes one.")

// verificationOrg authorizes perm on orgID's verification secret (the
// principal's home organization when empty) and returns the organization
// and mode.
func (s *Service) verificationOrg(ctx context.Context, perm verigate.Permission, orgID string) (string, verigate.Mode, error) {
	p := verigate.PrincipalFrom(ctx)
	var mode verigate.Mode
	if p != nil {
		mode = p.Mode
		if orgID == "" {
			orgID = p.HomeOrg()
		}
	}
	if err := verigate.Authorize(ctx, perm, verigate.Object{Org: orgID, Mode: mode},
		verigate.FieldError("organization", "is not one this credential reaches")); err != nil {
		return "", "", err
	}
	if orgID == "" {
		return "", "", verigate.Errorf(verigate.EFORBIDDEN, "This credential names no organization.")
	}
	return orgID, mode, nil
}

// VerificationSecret returns what is known of an organization's
// verification secret (orgID "" is the principal's own): when it was made
// and rotated, and until when the one before still signs; never the
// secret.
func (s *Service) VerificationSecret(ctx context.Context, orgID string) (*verigate.VerificationSecret, error) {
	org, mode, err := s.verificationOrg(ctx, "webhooks.read", orgID)
	if err != nil {
		return nil, err
	}
	sec, err := s.store.VerificationSecret(ctx, org, mode)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, ErrNoVerificationSecret
	} else if err != nil {
		return nil, err
	}
	sec.Keys = verigate.WebhookKeys{PreviousUntil: sec.Keys.PreviousUntil}
	return sec, nil
}

// RotateVerificationSecret makes an organization's verification secret,
// or replaces it, and returns it with the secret, shown this once; the
// one replaced still signs (a second signature) for the rotation overlap.
func (s *Service) RotateVerificationSecret(ctx context.Context, orgID string) (*verigate.VerificationSecret, string, error) {
	org, mode, err := s.verificationOrg(ctx, "webhooks.update", orgID)
	if err != nil {
		return nil, "", err
	}
	if active, err := s.store.OrgChainActive(ctx, org); err != nil {
		return nil, "", err
	} else if !active {
		return nil, "", verigate.Errorf(verigate.EFORBIDDEN, "This organization is disabled.")
	}
	now := s.now()
	sec, err := s.store.VerificationSecret(ctx, org, mode)
	switch {
	case verigate.ErrorCode(err) == verigate.ENOTFOUND:
		sec = &verigate.VerificationSecret{OrgID: org, Mode: mode, CreatedAt: now}
	case err != nil:
		return nil, "", err
	default:
		sec.Keys.Previous, sec.Keys.PreviousUntil = sec.Keys.Secret, now.Add(s.opts.RotationOverlap)
	}
	secret := newSecret()
	sec.Keys.Secret = s.seal.Seal(verificationSecretID(org, mode), []byte(secret))
	sec.RotatedAt = now
	ev := verigate.NewAuditEvent(ctx, now, "verification_secret.rotate", "organization", org, org)
	ev.Details = map[string]any{"mode": string(mode)}
	if err := s.store.PutVerificationSecret(ctx, sec, ev); err != nil {
		return nil, "", err
	}
	sec.Keys = verigate.WebhookKeys{PreviousUntil: sec.Keys.PreviousUntil}
	return sec, secret, nil
}

// SessionEndpoint checks url as a verification's own webhookUrl and
// returns the endpoint it would be, in orgID and mode, without writing
// it: the verification use case, which has authorized creating the
// verification, writes it with the session (CreateSessionEndpoint).
func (s *Service) SessionEndpoint(ctx context.Context, orgID string, mode verigate.Mode, url string) (*verigate.WebhookEndpoint, error) {
	now := s.now()
	e := &verigate.WebhookEndpoint{ID: verigate.NewID(), OrgID: orgID, Mode: mode, URL: url,
		Flavour: verigate.FlavourStandard, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.validate(ctx, e, "", true); err != nil {
		return nil, err // a field error on "url": the surface names it
	}
	return e, nil
}

// NewVerificationSecret is a fresh verification secret for orgID in mode,
// sealed, for the store to keep if the organization has none yet.
func (s *Service) NewVerificationSecret(orgID string, mode verigate.Mode) *verigate.VerificationSecret {
	now := s.now()
	return &verigate.VerificationSecret{OrgID: orgID, Mode: mode, CreatedAt: now, RotatedAt: now,
		Keys: verigate.WebhookKeys{Secret: s.seal.Seal(verificationSecretID(orgID, mode), []byte(newSecret()))}}
}

// CreateSessionEndpoint writes e (from SessionEndpoint) as session's own
// endpoint, and the organization's verification secret if it has none
// yet (made now; a rotation shows it).
func (s *Service) CreateSessionEndpoint(ctx context.Context, e *verigate.WebhookEndpoint, session int64) error {
	e.SessionID = session
	return s.store.CreateSessionWebhookEndpoint(ctx, e, s.NewVerificationSecret(e.OrgID, e.Mode))
}

// ErrSessionEndpoint refuses changing a verification's own endpoint on
// its own: it follows its verification.
var ErrSessionEndpoint = verigate.Errorf(verigate.ECONFLICT,
	"This endpoint is a verification's webhookUrl: it is signed with the organization's verification secret and changes only with its verification.")
