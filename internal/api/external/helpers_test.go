package external_test

import (
	"testing"

	"github.com/verigate/verigate/internal/app/apptest"
)

// login signs r's service account in and returns the SSO token.
func login(t *testing.T, e *apptest.Env, r *apptest.Reseller) string {
	t.Helper()
	resp := e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password}, "accessToken", r.AccessToken)
	if resp.Status != 200 {
		t.Fatalf("login: %d %s", resp.Status, resp.Body)
	}
	return resp.JSON(t)["token"].(string)
}

// sa returns the service-account headers.
func sa(token, institution, requestedBy string) []string {
	return []string{"SsoToken", token, "InstitutionKey", institution, "RequestedBy", requestedBy}
}

func wantError(t *testing.T, resp *apptest.Response, status int, msg string) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status = %d, want %d: %s", resp.Status, status, resp.Body)
	}
	m := resp.JSON(t)
	if m["success"] != false || len(m) != 2 {
		t.Fatalf("error body = %s, want exactly success:false and error", resp.Body)
	}
	if msg != "" && m["error"] != msg {
		t.Fatalf("error = %q, want %q", m["error"], msg)
	}
}
