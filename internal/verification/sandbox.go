package verification

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/reclaim"
)

// sandboxData is what a sandbox proof proves, by verification type.
var sandboxData = map[int64]map[string]string{
	1: {"monthlyIncome": "5400.00", "currency": "USD", "months": "12"},
	2: {"fullName": "Sandbox Applicant", "verified": "true"},
	3: {"employer": "Sandbox Corp", "title": "Engineer", "startDate": "2021-04-01"},
	4: {"accountHolder": "Sandbox Applicant", "balance": "12840.55", "currency": "USD"},
}

// SandboxProof returns a proof for a test-mode reclaim step, signed by the
// sandbox attestor and carrying the step's nonce: the same proof a real
// Reclaim attestor would produce, verified on the production path. The
// step must be in reach; its session must be in test mode.
func (s *Service) SandboxProof(ctx context.Context, stepID int64) (*reclaim.Proof, error) {
	st, sess, err := s.step(ctx, "verifications.update", stepID)
	if err != nil {
		return nil, err
	}
	if sess.Mode != verigate.ModeTest {
		return nil, verigate.Errorf(verigate.EINVALID, "Sandbox proofs are for test-mode sessions; session %d is live.", sess.ID)
	}
	if st.Type != verigate.SourceReclaim {
		return nil, verigate.Errorf(verigate.EINVALID, "Step %d is a connector step; sandbox proofs are for reclaim steps.", st.ID)
	}
	src, err := s.sourceByID(ctx, st.DataSourceID)
	if err != nil {
		return nil, err
	}
	extracted := map[string]string{"sourceName": src.SourceName}
	for k, v := range sandboxData[src.VerificationTypeID] {
		extracted[k] = v
	}
	params, _ := json.Marshal(map[string]any{"method": "GET", "url": "https://sandbox.verigate.dev/" +
		strings.ToLower(strings.ReplaceAll(src.SourceName, " ", "-")) + "/data", "providerId": src.ProviderID,
		"responseMatches": []map[string]string{{"type": "contains", "value": "\"verified\":true"}}})
	ctxJSON, _ := json.Marshal(map[string]any{"contextAddress": "0x0", "contextMessage": st.Nonce,
		"extractedParameters": extracted, "providerHash": sandboxProviderHash(src)})
	// The applicant's (owner's) address is stable per session.
	ownerSeed := sha256.Sum256([]byte(fmt.Sprintf("verigate sandbox owner %d", sess.ID)))
	c := reclaim.ClaimData{Provider: "http", Parameters: reclaim.Parameters(params),
		Owner: reclaim.Address(secp256k1.PrivKeyFromBytes(ownerSeed[:]).PubKey()), TimestampS: s.now().Unix(),
		Context: string(ctxJSON), Epoch: 1}
	if c.Identifier, err = reclaim.Identifier(c.Provider, string(c.Parameters), c.Context); err != nil {
		return nil, err
	}
	return &reclaim.Proof{Identifier: c.Identifier, ClaimData: c, Signatures: []string{reclaim.Sign(s.sandbox, c)},
		Witnesses: []reclaim.Witness{{ID: s.SandboxAttestor(), URL: "https://sandbox.verigate.dev/attestor"}}}, nil
}

// sandboxProviderHash is the provider hash of a source's sandbox proofs,
// accepted for that source in test mode.
func sandboxProviderHash(src *verigate.DataSource) string {
	return fmt.Sprintf("0x%x", sha256.Sum256([]byte("verigate sandbox provider\x00"+src.SourceName)))
}
