package partner_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

func TestCreateSessionValidation(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		future := e.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		for _, tc := range []struct {
			name, field string
			body        any
			key         string
			status      int
		}{
			{"no params", "params", map[string]any{}, f.test, 400},
			{"no expiry", "params.expiryDate", map[string]any{"params": map[string]any{}}, f.test, 400},
			{"expiry in the past", "params.expiryDate", map[string]any{"params": map[string]any{"expiryDate": "2020-01-01T00:00:00Z"}}, f.test, 400},
			{"expiry not a date", "params.expiryDate", map[string]any{"params": map[string]any{"expiryDate": "tomorrow"}}, f.test, 400},
			{"expiry wrong type", "params.expiryDate", map[string]any{"params": map[string]any{"expiryDate": 12}}, f.test, 400},
			{"bad email", "params.applicantEmail", map[string]any{"params": map[string]any{"expiryDate": future, "applicantEmail": "nope"}}, f.test, 400},
			{"metadata not an object", "params.metadata", map[string]any{"params": map[string]any{"expiryDate": future, "metadata": []int{1}}}, f.test, 400},
			{"unknown source", "params.allowedSources[0]", map[string]any{"params": map[string]any{"expiryDate": future, "allowedSources": []int{424242}}}, f.test, 400},
			{"source of the wrong shape", "params.allowedSources[0]", map[string]any{"params": map[string]any{"expiryDate": future, "allowedSources": []any{"PayPal"}}}, f.test, 400},
			{"sandbox source on a live key", "params.allowedSources[0]", map[string]any{"params": map[string]any{"expiryDate": future, "allowedSources": []int64{f.sandboxReclaim}}}, f.live, 400},
			{"selected outside allowed", "params.selectedPlatform", map[string]any{"params": map[string]any{"expiryDate": future, "allowedSources": []int{1}, "selectedPlatform": 2}}, f.test, 400},
			{"unknown type", "params.verificationTypeId", map[string]any{"params": map[string]any{"expiryDate": future, "verificationTypeId": 99}}, f.test, 400},
			{"unknown field", "nickname", map[string]any{"params": map[string]any{"expiryDate": future, "nickname": "x"}}, f.test, 400},
			{"foreign institution", "params.institutionKey", map[string]any{"params": map[string]any{"expiryDate": future, "institutionKey": "platform"}}, f.test, 400},
			{"malformed JSON", "", `{"params":`, f.test, 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.Do("POST", "/partner/session", tc.body, "x-api-key", tc.key, "Content-Type", "application/json"), tc.status, tc.field)
			})
		}
		wantError(t, e.Do("POST", "/partner/session", `<xml/>`, "x-api-key", f.test, "Content-Type", "text/xml"), 415, "")
		big := `{"params":{"expiryDate":"` + future + `","instructions":"` + strings.Repeat("x", 2<<20) + `"}}`
		wantError(t, e.Do("POST", "/partner/session", big, "x-api-key", f.test, "Content-Type", "application/json"), 413, "")
		// Nothing half-written.
		var list struct{ Total int }
		e.Do("GET", "/partner/reviewer/sessions", nil, "x-api-key", f.test).Decode(t, &list)
		if list.Total != 0 {
			t.Fatalf("%d sessions exist after only refused requests", list.Total)
		}
		// An institution's session, by key.
		c := f.createSession(t, f.test, map[string]any{"institutionKey": "acme-cu"})
		if c.Data.ID == 0 {
			t.Fatal("no session")
		}
	})
}

func TestAuthAndTenancy(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		e.SeedReseller("bravo", "bravo-cu")
		bravo := f.key(t, "bravo", verigate.ModeTest, nil, partnerScopes...)
		readOnly := f.key(t, "acme", verigate.ModeTest, nil, "verifications:read")
		c := f.createSession(t, f.test, nil)
		wantError(t, e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{}}), 401, "x-api-key")
		wantError(t, e.Do("GET", "/partner/reviewer/sessions", nil, "x-api-key", "vgk_nope"), 401, "Invalid API key")
		wantError(t, e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": "2030-01-01"}}, "x-api-key", readOnly), 403, "lacks the verifications:create scope")
		foreign := e.Do("GET", fmt.Sprintf("/partner/session/%d", c.Data.ID), nil, "x-api-key", bravo)
		missing := e.Do("GET", "/partner/session/999999", nil, "x-api-key", bravo)
		wantError(t, foreign, 404, "Session not found")
		if !bytes.Equal(foreign.Body, missing.Body) {
			t.Fatalf("a foreign session (%s) answers differently from a missing one (%s)", foreign.Body, missing.Body)
		}
		// Live and test sessions never mix.
		wantError(t, e.Do("GET", fmt.Sprintf("/partner/session/%d", c.Data.ID), nil, "x-api-key", f.live), 404, "")
		var list struct{ Total int }
		e.Do("GET", "/partner/reviewer/sessions", nil, "x-api-key", bravo).Decode(t, &list)
		if list.Total != 0 {
			t.Fatalf("bravo sees %d of acme's sessions", list.Total)
		}
		r := e.Raw(httptest.NewRequest("DELETE", "/partner/session", nil))
		if r.Status != 405 || !strings.Contains(string(r.Body), `"statusCode":405`) {
			t.Fatalf("wrong method: %d %s", r.Status, r.Body)
		}
	})
}

func TestReviewerBounds(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		for _, q := range []struct{ query, field string }{
			{"limit=101", "limit"}, {"limit=0", "limit"}, {"limit=ten", "limit"}, {"offset=-1", "offset"},
			{"sortBy=password", "sortBy"}, {"sortOrder=up", "sortOrder"}, {"status=FOO", "status"},
		} {
			wantError(t, e.Do("GET", "/partner/reviewer/sessions?"+q.query, nil, "x-api-key", f.test), 400, q.field)
		}
		for i := range 3 {
			f.createSession(t, f.test, map[string]any{"applicantId": fmt.Sprint("a", i)})
			e.Clock.Advance(time.Second)
		}
		var list struct {
			Data                 []map[string]any
			Total, Limit, Offset int
		}
		e.Do("GET", "/partner/reviewer/sessions?limit=2&offset=1&sortBy=createdAt&sortOrder=asc&status=PENDING", nil, "x-api-key", f.test).Decode(t, &list)
		if list.Total != 3 || len(list.Data) != 2 || list.Limit != 2 || list.Offset != 1 || list.Data[0]["userId"] != "a1" {
			t.Fatalf("page: %+v", list)
		}
		for _, k := range []string{"id", "status", "verificationTypeId", "userId", "teamId", "reviewerId", "createdAt", "updatedAt"} {
			if _, ok := list.Data[0][k]; !ok {
				t.Errorf("reviewer item lacks %s", k)
			}
		}
	})
}

func TestRateLimit(t *testing.T) {
	e := sqliteEnv(t)
	f := newFixture(t, e)
	policy := &verigate.RateLimitPolicy{TTL: 10 * time.Second, Limit: 5, BlockDuration: 30 * time.Second}
	key := f.key(t, "acme", verigate.ModeTest, policy, partnerScopes...)
	for i := 1; i <= 5; i++ {
		r := e.Do("GET", "/partner/types", nil, "x-api-key", key)
		if r.Status != 200 || r.Header.Get("X-RateLimit-Limit") != "5" || r.Header.Get("X-RateLimit-Remaining") != fmt.Sprint(5-i) {
			t.Fatalf("request %d: %d %v", i, r.Status, r.Header)
		}
	}
	r := e.Do("GET", "/partner/types", nil, "x-api-key", key)
	if r.Status != 429 || r.Header.Get("Retry-After") != "30" ||
		string(r.Body) != "{\"statusCode\":429,\"message\":\"Too Many Requests\",\"error\":\"Rate limit exceeded. Try again in 30 seconds.\"}\n" {
		t.Fatalf("6th: %d %v %s", r.Status, r.Header, r.Body)
	}
	e.Clock.Advance(29 * time.Second)
	if r := e.Do("GET", "/partner/types", nil, "x-api-key", key); r.Status != 429 {
		t.Fatalf("at 29s: %d", r.Status)
	}
	e.Clock.Advance(2 * time.Second)
	if r := e.Do("GET", "/partner/types", nil, "x-api-key", key); r.Status != 200 {
		t.Fatalf("at 31s: %d %s", r.Status, r.Body)
	}
	// 50 concurrent requests on a fresh key: exactly 5 pass.
	key2 := f.key(t, "acme", verigate.ModeTest, policy, partnerScopes...)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("GET", "/partner/types", nil)
			req.Header.Set("x-api-key", key2)
			if e.Raw(req).Status == 200 {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 5 {
		t.Fatalf("%d of 50 concurrent requests passed, want 5", passed.Load())
	}
}

func TestIdempotency(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		body := map[string]any{"params": map[string]any{"expiryDate": e.Clock.Now().Add(time.Hour).Format(time.RFC3339), "applicantId": "x"}}
		first := e.Do("POST", "/partner/session", body, "x-api-key", f.test, "Idempotency-Key", "k-1")
		again := e.Do("POST", "/partner/session", body, "x-api-key", f.test, "Idempotency-Key", "k-1")
		if first.Status != 201 || again.Status != 201 || !bytes.Equal(first.Body, again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
		}
		link := first.JSON(t)["data"].(map[string]any)["verificationLink"].(map[string]any)["token"].(string)
		if strings.Contains(e.Dump(), link) {
			t.Fatal("the stored idempotent response holds the link token in the clear")
		}
		other := map[string]any{"params": map[string]any{"expiryDate": e.Clock.Now().Add(time.Hour).Format(time.RFC3339), "applicantId": "y"}}
		wantError(t, e.Do("POST", "/partner/session", other, "x-api-key", f.test, "Idempotency-Key", "k-1"), 400, "Idempotency-Key")
		// Another key's namespace is its own.
		if r := e.Do("POST", "/partner/session", other, "x-api-key", f.live, "Idempotency-Key", "k-1"); r.Status != 201 {
			t.Fatalf("same Idempotency-Key under another API key: %d", r.Status)
		}
		// While the first request runs: 409.
		scope := "partner-session:" + strings.Split(f.test, "_")[1]
		if _, err := e.App.DB.ClaimIdempotencyKey(e.System, scope, "k-2", []byte("h"), e.Clock.Now(), e.Clock.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.Do("POST", "/partner/session", body, "x-api-key", f.test, "Idempotency-Key", "k-2"), 409, "in progress")
		// A response stored in the clear (before responses were sealed)
		// replays; one that cannot be opened answers 409, never 500.
		raw, _ := json.Marshal(body)
		sum := sha256.Sum256(raw)
		for k, stored := range map[string]string{"k-plain": string(first.Body), "k-foreign": "c2VhbGVkIGVsc2V3aGVyZQ=="} {
			if _, err := e.App.DB.ClaimIdempotencyKey(e.System, scope, k, sum[:], e.Clock.Now(), e.Clock.Now().Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := e.App.DB.FinishIdempotencyKey(e.System, scope, k, 201, []byte(stored)); err != nil {
				t.Fatal(err)
			}
		}
		if r := e.Do("POST", "/partner/session", raw, "x-api-key", f.test, "Idempotency-Key", "k-plain"); r.Status != 201 || !bytes.Equal(r.Body, first.Body) {
			t.Fatalf("plain stored response: %d %s", r.Status, r.Body)
		}
		wantError(t, e.Do("POST", "/partner/session", raw, "x-api-key", f.test, "Idempotency-Key", "k-foreign"), 409, "no longer be replayed")
		// A refused request is not kept: the key can be used again.
		bad := map[string]any{"params": map[string]any{"expiryDate": "2001-01-01"}}
		wantError(t, e.Do("POST", "/partner/session", bad, "x-api-key", f.test, "Idempotency-Key", "k-3"), 400, "")
		if r := e.Do("POST", "/partner/session", body, "x-api-key", f.test, "Idempotency-Key", "k-3"); r.Status != 201 {
			t.Fatalf("retry after a refusal: %d %s", r.Status, r.Body)
		}
		// Keys are kept 24 hours.
		e.Clock.Advance(25 * time.Hour)
		body["params"].(map[string]any)["expiryDate"] = e.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		if r := e.Do("POST", "/partner/session", body, "x-api-key", f.test, "Idempotency-Key", "k-1"); r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("after 24h: %d %v", r.Status, r.Header)
		}
	})
}

func TestSDKSessionAndCatalog(t *testing.T) {
	e := sqliteEnv(t)
	f := newFixture(t, e)
	r := e.Do("POST", "/partner/sdk/session", map[string]string{"sourceName": "paypal"}, "x-api-key", f.live)
	var sdk struct {
		Success bool
		Data    struct {
			SessionID, ProviderID, AppID string
			Steps                        []struct {
				Step                int
				Action, Description string
			}
		}
	}
	r.Decode(t, &sdk)
	if r.Status != 201 || sdk.Data.SessionID == "" || sdk.Data.ProviderID == "" || sdk.Data.AppID != "verigate" || sdk.Data.Steps[0].Action != "login" {
		t.Fatalf("sdk session: %d %s", r.Status, r.Body)
	}
	// An SDK session can be carried to the end: link → CSRF → initiate → proof.
	var tsdk struct {
		Data struct {
			SessionID        string
			StepID           int64
			Nonce            string
			VerificationLink struct{ Token string }
		}
	}
	e.Do("POST", "/partner/sdk/session", map[string]string{"sourceName": "PayPal"}, "x-api-key", f.test).Decode(t, &tsdk)
	csrfResp := e.Do("GET", "/partner/verification/verify?token="+tsdk.Data.VerificationLink.Token+"&sessionId="+tsdk.Data.SessionID, nil, "Accept", "application/json")
	csrf := csrfResp.JSON(t)["csrfToken"].(string)
	if r := e.Do("POST", "/partner/step/initiate", map[string]any{"stepId": tsdk.Data.StepID}, "x-csrf-token", csrf); r.Status != 201 {
		t.Fatalf("initiate the SDK step: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/partner/step/submit", map[string]any{"stepId": tsdk.Data.StepID, "proofs": []json.RawMessage{f.sandboxProof(t, tsdk.Data.StepID)}},
		"x-csrf-token", csrf); r.Status != 201 {
		t.Fatalf("submit the SDK step: %d %s", r.Status, r.Body)
	}
	wantError(t, e.Do("POST", "/partner/sdk/session", map[string]string{"sourceName": "Nope"}, "x-api-key", f.live), 404, "Verification source not found")
	wantError(t, e.Do("POST", "/partner/sdk/session", map[string]string{"sourceName": "Sandbox Bank"}, "x-api-key", f.test), 404, "Login flow not found")
	wantError(t, e.Do("POST", "/partner/sdk/session", map[string]string{"sourceName": "Sandbox Bank"}, "x-api-key", f.live), 404, "Verification source not found")
	var types struct{ Data []map[string]any }
	e.Do("GET", "/partner/types", nil, "x-api-key", f.live).Decode(t, &types)
	if len(types.Data) != 4 || types.Data[0]["name"] != "Income Verification" {
		t.Fatalf("types: %+v", types)
	}
	var byType struct{ Data []map[string]any }
	e.Do("GET", "/partner/sources/type/1", nil, "x-api-key", f.live).Decode(t, &byType)
	if len(byType.Data) < 3 {
		t.Fatalf("income sources: %+v", byType)
	}
	wantError(t, e.Do("GET", "/partner/sources/type/77", nil, "x-api-key", f.live), 404, "")
	// Disabling a source for the reseller hides it from its sessions.
	if err := e.App.Verify.SetSourceEnabled(e.System, "acme", "PayPal", false); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.Do("POST", "/partner/sdk/session", map[string]string{"sourceName": "PayPal"}, "x-api-key", f.live), 404, "")
	wantError(t, e.Do("GET", "/partner/sources/search", nil, "x-csrf-token", f.csrf(t, f.createSession(t, f.test, nil))), 400, "text")
}

// TestRestrictedKey: a key limited to one institution reaches only its
// sessions, not its siblings'.
func TestRestrictedKey(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		if _, err := e.App.Access.CreateOrganization(e.System, access.OrgInput{Kind: verigate.OrgInstitution, Key: "acme-bank", Name: "Acme Bank", ParentKey: "acme"}); err != nil {
			t.Fatal(err)
		}
		cu, _ := e.App.Access.Organization(e.System, "acme-cu")
		inBank := f.createSession(t, f.test, map[string]any{"institutionKey": "acme-bank"})
		k, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: f.r.Email, Scopes: partnerScopes, Mode: verigate.ModeTest, Accounts: []string{cu.ID}})
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, e.Do("GET", fmt.Sprintf("/partner/session/%d", inBank.Data.ID), nil, "x-api-key", k), 404, "")
		wantError(t, e.Do("POST", fmt.Sprintf("/partner/session/%d/link", inBank.Data.ID), nil, "x-api-key", k), 404, "")
		wantError(t, e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": "2027-01-01", "institutionKey": "acme-bank"}}, "x-api-key", k), 400, "params.institutionKey")
		var list struct{ Total int }
		e.Do("GET", "/partner/reviewer/sessions", nil, "x-api-key", k).Decode(t, &list)
		if list.Total != 0 {
			t.Fatalf("the restricted key lists %d sibling sessions", list.Total)
		}
		f.createSession(t, k, map[string]any{"institutionKey": "acme-cu"})
		// Without institutionKey the session goes to the key's one organization.
		c := f.createSession(t, k, nil)
		var got struct{ Data map[string]any }
		e.Do("GET", fmt.Sprintf("/partner/session/%d", c.Data.ID), nil, "x-api-key", k).Decode(t, &got)
		if got.Data["status"] != "PENDING" {
			t.Fatalf("session of a restricted key: %v", got.Data)
		}
		// A key restricted to several institutions creates sessions, SDK ones
		// included (which take no institutionKey), in the first it lists.
		bank, _ := e.App.Access.Organization(e.System, "acme-bank")
		two, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: "acme", UserEmail: f.r.Email, Scopes: partnerScopes, Mode: verigate.ModeTest, Accounts: []string{bank.ID, cu.ID}})
		if err != nil {
			t.Fatal(err)
		}
		var sdk struct{ Data struct{ SessionID string } }
		if r := e.Do("POST", "/partner/sdk/session", map[string]string{"sourceName": "PayPal"}, "x-api-key", two); r.Status != 201 {
			t.Fatalf("SDK session of a key restricted to two institutions: %d %s", r.Status, r.Body)
		} else {
			r.Decode(t, &sdk)
		}
		id, _ := strconv.ParseInt(sdk.Data.SessionID, 10, 64)
		if s, err := e.App.DB.GetSession(e.System, id); err != nil || s.OrgID != bank.ID {
			t.Fatalf("SDK session landed in %v (%v), want %s", s, err, bank.ID)
		}
		// A disabled home organization is the key's problem, not a parameter's.
		if _, err := e.App.Access.DisableOrganization(e.System, "acme-bank"); err != nil {
			t.Fatal(err)
		}
		r := e.Do("POST", "/partner/session", map[string]any{"params": map[string]any{"expiryDate": "2027-01-01"}}, "x-api-key", two)
		if r.Status != 403 || strings.Contains(string(r.Body), "institutionKey") {
			t.Fatalf("session for a disabled home organization: %d %s", r.Status, r.Body)
		}
	})
}
