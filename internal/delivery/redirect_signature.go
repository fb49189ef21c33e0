package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/webhook"
	"github.com/verigate/verigate/redirectsig"
)

// SignWithVerificationSecret returns the lowercase hex HMAC-SHA256 of msg
// keyed with orgID's verification secret in mode (the whsec_ secret's
// base64-decoded bytes, as webhook signatures are keyed), making the
// secret first if the organization has none yet (a rotation shows it).
// It authorizes nothing: the caller (the verification service, which
// signs a redirect back to the partner) has authorized its session.
func (s *Service) SignWithVerificationSecret(ctx context.Context, orgID string, mode verigate.Mode, msg []byte) (string, error) {
	sec, err := s.store.VerificationSecret(ctx, orgID, mode)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		// Two first signers race harmlessly: the store keeps the first
		// secret written, and both read it back.
		if err := s.store.EnsureVerificationSecret(ctx, s.NewVerificationSecret(orgID, mode)); err != nil {
			return "", err
		}
		sec, err = s.store.VerificationSecret(ctx, orgID, mode)
	}
	if err != nil {
		return "", err
	}
	plain, err := s.seal.Open(verificationSecretID(orgID, mode), sec.Keys.Secret)
	if err != nil {
		return "", fmt.Errorf("the organization's verification secret cannot be read on this server: %w", err)
	}
	key, err := webhook.ParseSecret(string(plain))
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil)), nil
}

// CheckRedirect checks the signature of a redirect back from the journey
// (its query: verification_id, status, state, sig) against orgID's
// verification secret in the principal's mode (orgID "" is its own), or
// the one before while it still signs: nil when one of them signed it. A
// partner checks with package redirectsig and its copy of the secret;
// this is for a receiver that runs beside the server (the demo's).
func (s *Service) CheckRedirect(ctx context.Context, orgID string, query url.Values) error {
	org, mode, err := s.verificationOrg(ctx, "webhooks.read", orgID)
	if err != nil {
		return err
	}
	sec, err := s.store.VerificationSecret(ctx, org, mode)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return ErrNoVerificationSecret
	} else if err != nil {
		return err
	}
	sealed := [][]byte{sec.Keys.Secret}
	if len(sec.Keys.Previous) > 0 && s.now().Before(sec.Keys.PreviousUntil) {
		sealed = append(sealed, sec.Keys.Previous)
	}
	var secrets []string
	for _, sealed := range sealed {
		plain, err := s.seal.Open(verificationSecretID(org, mode), sealed)
		if err != nil {
			return fmt.Errorf("the organization's verification secret cannot be read on this server: %w", err)
		}
		secrets = append(secrets, string(plain))
	}
	return redirectsig.Verify(query, secrets...)
}
