package verification

import "github.com/verigate/verigate/internal/reclaim"

// SignAsSandbox signs a claim with the sandbox attestor (tests only).
func (s *Service) SignAsSandbox(c reclaim.ClaimData) string { return reclaim.Sign(s.sandbox, c) }
