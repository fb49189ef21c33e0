package v1_test

import (
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// TestVerificationSecret: the organization's verification secret on
// /v1: 404 until made, made and shown once by a rotation (bad input and
// another tenant's organization write nothing), its dates readable
// without it, a second rotation keeping the first for the overlap.
func TestVerificationSecret(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		h := newHooks(t, e)
		e.SeedReseller("bravo", "bravo-cu")
		wantError(t, h.do("GET", "/v1/verification-secret", nil), 404, "NOT_FOUND")

		missing := h.do("POST", "/v1/verification-secret/rotate", map[string]any{"organization_id": "no-such-org"})
		wantError(t, missing, 400, "VALIDATION_ERROR")
		if !strings.Contains(string(missing.Body), "organization_id") {
			t.Fatalf("does not name organization_id: %s", missing.Body)
		}
		org, err := e.App.DB.GetOrganizationByKey(e.System, "bravo")
		if err != nil {
			t.Fatal(err)
		}
		bravo := org.ID
		foreign := h.do("POST", "/v1/verification-secret/rotate", map[string]any{"organization_id": bravo})
		if foreign.Status != missing.Status || string(foreign.Body) != string(missing.Body) {
			t.Fatalf("another tenant's organization = %d %s, want the missing answer %s", foreign.Status, foreign.Body, missing.Body)
		}
		if r := h.do("GET", "/v1/verification-secret?organization_id="+bravo, nil); r.Status != 400 {
			t.Fatalf("reading another tenant's secret: %d %s", r.Status, r.Body)
		}
		wantError(t, h.do("POST", "/v1/verification-secret/rotate", `{"organization_id":7}`), 400, "VALIDATION_ERROR")
		wantError(t, h.do("POST", "/v1/verification-secret/rotate", `{"nope":true}`), 400, "VALIDATION_ERROR")
		readOnly := makeKey(t, e, "acme", access.APIKeyInput{Scopes: []string{"webhooks:read"}})
		wantError(t, h.do("POST", "/v1/verification-secret/rotate", nil, readOnly), 403, "FORBIDDEN")
		wantError(t, h.do("GET", "/v1/verification-secret", nil), 404, "NOT_FOUND") // nothing was written

		first := h.do("POST", "/v1/verification-secret/rotate", nil)
		made := first.JSON(t)
		secret, _ := made["secret"].(string)
		if first.Status != 200 || !strings.HasPrefix(secret, "whsec_") || made["previous_valid_until"] != nil || made["mode"] != "test" {
			t.Fatalf("first rotation: %d %s", first.Status, first.Body)
		}
		got := h.do("GET", "/v1/verification-secret", nil, readOnly)
		if got.Status != 200 || strings.Contains(string(got.Body), "whsec_") || got.JSON(t)["created_at"] != made["created_at"] {
			t.Fatalf("read: %d %s", got.Status, got.Body)
		}
		e.Clock.Advance(time.Minute)
		again := h.do("POST", "/v1/verification-secret/rotate", map[string]any{}).JSON(t)
		if again["secret"] == secret || again["created_at"] != made["created_at"] || again["rotated_at"] == made["rotated_at"] ||
			again["previous_valid_until"] == nil {
			t.Fatalf("second rotation: %v", again)
		}
	})
}
