package authz

import (
	"testing"

	"github.com/verigate/verigate"
)

func TestCheck(t *testing.T) {
	reader := &verigate.Principal{Kind: verigate.PrincipalAPIKey, Permissions: []verigate.Permission{"verifications.read", "sources.read"}}
	applicant := &verigate.Principal{Kind: verigate.PrincipalApplicant, SessionID: 1}
	for _, tc := range []struct {
		pattern string
		p       *verigate.Principal
		code    string
	}{
		{"GET /partner/session/{sessionId}", reader, ""},
		{"POST /partner/session", reader, verigate.EFORBIDDEN},
		{"GET /partner/types", reader, ""},
		{"GET /partner/types", applicant, ""},
		{"POST /partner/step/submit", applicant, ""},
		{"POST /partner/step/submit", reader, verigate.EFORBIDDEN},
		{"GET /partner/session/{sessionId}", applicant, verigate.EFORBIDDEN},
		{"GET /not/in/the/table", verigate.System, verigate.EFORBIDDEN},
		{"GET /users", nil, verigate.EUNAUTHENTICATED},
		{"POST /external/token/revoke", reader, ""},
		{"DELETE /users/{id}", verigate.System, ""},
	} {
		if got := verigate.ErrorCode(Check(tc.pattern, tc.p)); got != tc.code {
			t.Errorf("Check(%s, %v) = %q, want %q", tc.pattern, tc.p.Kind, got, tc.code)
		}
	}
}
