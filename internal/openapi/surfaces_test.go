package openapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// surfaces is a tenant with a valid credential for every surface: what a
// test needs to call any documented operation as an integrator would.
type surfaces struct {
	e         *apptest.Env
	reseller  *apptest.Reseller
	orgID     string // the reseller's organization id (embedded paths)
	account   string // its institution's id
	appID     string // the embedded token's application
	partner   string // Partner API key (x-api-key)
	v1        string // /v1 API key
	csrf      string // an applicant's CSRF token for session
	session   int64  // that applicant's session
	linkToken string // and its link token
	sso       string // /external SSO token of the reseller's service account
	embedded  string // embedded user token (owner)
	userID    string // that user
}

func newSurfaces(t *testing.T, e *apptest.Env) *surfaces {
	t.Helper()
	s := &surfaces{e: e, reseller: e.SeedReseller("acme", "acme-cu")}
	key := func(mode verigate.Mode, scopes ...string) string {
		k, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: s.reseller.Email, Scopes: scopes, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	s.partner = key(verigate.ModeTest, "verifications:create", "verifications:read", "verifications:update", "verifications:review", "sources:read")
	s.v1 = key(verigate.ModeTest, "accounts:read", "accounts:write", "otp:write", "status:read")

	if _, err := e.App.Access.CreateUser(e.System, access.UserInput{OrgKey: "acme", Email: "olivia@acme.test", Username: "olivia", Password: "password of olivia", Roles: []string{verigate.RoleOwner}}); err != nil {
		t.Fatal(err)
	}
	s.refresh(t)
	inst, err := e.App.Access.Organization(e.System, "acme-cu")
	if err != nil {
		t.Fatal(err)
	}
	s.account = inst.ID
	return s
}

// refresh issues fresh short-lived credentials: a new session opened by
// its applicant (CSRF), an SSO login and an embedded sign-in. A test that
// moves the fake clock on, or whose requests revoke what they hold, calls
// it again.
func (s *surfaces) refresh(t *testing.T) {
	t.Helper()
	e := s.e
	r := e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)}}, "x-api-key", s.partner)
	if r.Status != 201 {
		t.Fatalf("create session: %d %s", r.Status, r.Body)
	}
	var created struct {
		Data struct {
			ID               int64
			VerificationLink struct{ Token string }
		}
	}
	r.Decode(t, &created)
	s.session, s.linkToken = created.Data.ID, created.Data.VerificationLink.Token
	r = e.Do("GET", fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", s.linkToken, s.session), nil, "Accept", "application/json")
	if r.Status != 200 {
		t.Fatalf("verify link: %d %s", r.Status, r.Body)
	}
	s.csrf = r.JSON(t)["csrfToken"].(string)

	r = e.Do("POST", "/external/token/request", map[string]string{"email": s.reseller.Email, "password": s.reseller.Password}, "accessToken", s.reseller.AccessToken)
	if r.Status != 200 {
		t.Fatalf("sso login: %d %s", r.Status, r.Body)
	}
	s.sso = r.JSON(t)["token"].(string)

	r = e.Do("POST", "/token", map[string]string{"email": "olivia@acme.test", "password": "password of olivia"})
	if r.Status != 200 {
		t.Fatalf("POST /token: %d %s", r.Status, r.Body)
	}
	tok := r.JSON(t)
	s.embedded, s.orgID, s.appID, s.userID = tok["token"].(string), tok["account"].(string), tok["application"].(string), tok["user"].(string)
}

// Header pairs for each credential.
func (s *surfaces) partnerKey() []string { return []string{"x-api-key", s.partner} }
func (s *surfaces) applicant() []string  { return []string{"x-csrf-token", s.csrf} }
func (s *surfaces) v1Key() []string      { return []string{"Authorization", "Api-Key " + s.v1} }
func (s *surfaces) ssoHeaders() []string { return []string{"SsoToken", s.sso} }
func (s *surfaces) serviceAccount() []string {
	return []string{"SsoToken", s.sso, "InstitutionKey", "acme-cu", "RequestedBy", "operator"}
}
func (s *surfaces) user() []string { return []string{"Authorization", "Bearer " + s.embedded} }
