package openapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/calls"
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
	jwt       string // /api JWT of the same user
}

// targets are objects made afresh for each operation the property test
// drives, so that requests naming a real one reach past "not found"
// without harming the credentials (deleting the signed-in user).
type targets struct {
	steps                      []int64 // the applicant's steps: a Reclaim one, a connector one
	reclaimStep, connectorStep int64
	user                       string // an embedded user
	role                       string // an embedded custom role
	v1                         string // a /v1 account (connection)
	voiceID                    string // a call in the institution's queue
	v1Endpoint, v1Message      string // a /v1 webhook endpoint and a message of it
	webhook, webhookMessage    string // an embedded webhook and a message of it
	apiKey                     string // an /api key of the JWT's user
	verification               string // an open /v1 verification
	n                          int
}

// makeTargets creates the targets on s's credentials.
func (s *surfaces) makeTargets(t *testing.T, tg *targets) {
	t.Helper()
	e := s.e
	tg.n++
	srcs, _ := e.App.Verify.Sources(e.System)
	ids := map[string]int64{}
	for _, src := range srcs {
		ids[src.SourceName] = src.ID
	}
	if r := e.Do("POST", "/partner/step/select-data-source", map[string]any{"dataSourceIds": []int64{ids["Sandbox Reclaim"], ids["Sandbox Bank"]}, "sessionId": s.session}, s.applicant()...); r.Status != 201 {
		t.Fatalf("select sources: %d %s", r.Status, r.Body)
	}
	var steps struct {
		Data struct {
			Steps []struct {
				ID   int64
				Type string
			}
		}
	}
	e.Do("GET", fmt.Sprintf("/partner/steps/session/%d", s.session), nil, s.applicant()...).Decode(t, &steps)
	tg.steps = nil
	for _, st := range steps.Data.Steps {
		tg.steps = append(tg.steps, st.ID)
		if st.Type == "reclaim" {
			tg.reclaimStep = st.ID
		} else {
			tg.connectorStep = st.ID
		}
	}
	for _, id := range tg.steps {
		if r := e.Do("POST", "/partner/step/initiate", map[string]any{"stepId": id}, s.applicant()...); r.Status != 201 {
			t.Fatalf("initiate: %d %s", r.Status, r.Body)
		}
	}
	r := e.Do("POST", "/users", map[string]any{"email": fmt.Sprintf("target%d@acme.test", tg.n), "username": fmt.Sprintf("target%d", tg.n), "password": "password of target", "roles": []string{"viewer"}}, s.user()...)
	if r.Status != 201 {
		t.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	tg.user = r.JSON(t)["id"].(string)
	r = e.Do("POST", "/roles", map[string]any{"name": fmt.Sprintf("target-%d", tg.n), "permissions": []string{"users.read"}}, s.user()...)
	if r.Status != 201 {
		t.Fatalf("create role: %d %s", r.Status, r.Body)
	}
	tg.role = r.JSON(t)["id"].(string)
	r = e.Do("POST", "/v1/accounts", map[string]any{"source_id": ids["Sandbox Bank"], "credentials": map[string]string{"username": "user_good", "password": "pass"}}, s.v1Key()...)
	if r.Status != 201 {
		t.Fatalf("create v1 account: %d %s", r.Status, r.Body)
	}
	tg.v1 = r.JSON(t)["account_id"].(string)
	inst, err := e.App.Access.Organization(e.System, "acme-cu")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.App.Calls.Ingest(e.System, inst, calls.IncomingCall{Provider: "test", ProviderCallID: fmt.Sprintf("call-%d", tg.n), PhoneNumber: "+15550100" + fmt.Sprint(tg.n%10), ReceivedAt: e.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	tg.voiceID = c.VoiceID
	r = e.Do("POST", "/v1/webhook-endpoints", map[string]any{"url": "https://hooks.example/v1"}, s.v1Key()...)
	if r.Status != 201 {
		t.Fatalf("create v1 webhook endpoint: %d %s", r.Status, r.Body)
	}
	tg.v1Endpoint = r.JSON(t)["id"].(string)
	r = e.Do("POST", "/v1/verifications", map[string]any{"data": map[string]any{"firstName": "Ada"}}, s.v1Key()...)
	if r.Status != 201 {
		t.Fatalf("create v1 verification: %d %s", r.Status, r.Body)
	}
	tg.verification = r.JSON(t)["data"].(map[string]any)["id"].(string)
	tg.v1Message = e.Do("POST", "/v1/webhook-endpoints/"+tg.v1Endpoint+"/test", nil, s.v1Key()...).JSON(t)["id"].(string)
	r = e.Do("POST", "/webhooks", map[string]any{"url": "https://hooks.example/embedded"}, s.user()...)
	if r.Status != 201 {
		t.Fatalf("create embedded webhook: %d %s", r.Status, r.Body)
	}
	tg.webhook = r.JSON(t)["id"].(string)
	tg.webhookMessage = e.Do("POST", "/webhooks/"+tg.webhook+"/test", nil, s.user()...).JSON(t)["id"].(string)
	r = e.Do("POST", "/api/me/api-keys", map[string]any{"name": "target", "scopes": []string{"status:read"}}, "Authorization", "Bearer "+s.jwt)
	if r.Status != 201 {
		t.Fatalf("create /api key: %d %s", r.Status, r.Body)
	}
	tg.apiKey = r.JSON(t)["id"].(string)
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
	s.v1 = key(verigate.ModeTest, "accounts:read", "accounts:write", "otp:write", "status:read", "webhooks:read", "webhooks:write", "events:read",
		"verifications:create", "verifications:read", "verifications:update")

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

	r = e.Do("POST", "/api/auth/login", map[string]string{"email": "olivia@acme.test", "password": "password of olivia"})
	if r.Status != 200 {
		t.Fatalf("POST /api/auth/login: %d %s", r.Status, r.Body)
	}
	s.jwt = r.JSON(t)["token"].(string)
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
