package delivery

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/webhook"
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
