package partner_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

// TestTypicalWorkflow is the seed's "Typical Workflow": create session →
// sources → select → steps → initiate → submit, then a reviewer.
func TestTypicalWorkflow(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		c := f.createSession(t, f.test, map[string]any{"applicantId": "app-1", "applicantFirstName": "John", "applicantLastName": "Doe",
			"applicantEmail": "John.Doe@Example.com", "metadata": map[string]string{"loan": "L-77"}, "instructions": "Use your payroll",
			"allowedSources": []any{map[string]any{"id": f.sandboxReclaim, "name": "Sandbox Reclaim"}, 1}})
		if !c.Success || c.Message != "Verification session created successfully" || c.Data.Status != "PENDING" ||
			!strings.HasPrefix(c.Data.VerificationLink.ManualVerificationLink, "https://verigate.test/partner/verification/verify?token=") ||
			!strings.Contains(c.Data.VerificationLink.DeeplinkVerificationLink, fmt.Sprintf("sessionId=%d", c.Data.ID)) {
			t.Fatalf("create: %+v", c)
		}
		csrf := f.csrf(t, c)
		h := []string{"x-csrf-token", csrf}

		var sources []struct {
			ID   int64
			Name string
		}
		e.Do("GET", fmt.Sprintf("/partner/sources/session/%d", c.Data.ID), nil, h...).Decode(t, &sources)
		if len(sources) != 2 {
			t.Fatalf("session sources: %+v", sources)
		}
		e.Do("GET", fmt.Sprintf("/partner/sources/search?text=SANDBOX&sessionId=%d", c.Data.ID), nil, h...).Decode(t, &sources)
		if len(sources) != 1 || sources[0].ID != f.sandboxReclaim {
			t.Fatalf("search: %+v", sources)
		}
		resp := e.Do("POST", "/partner/step/select-data-source", map[string]any{"dataSourceIds": []int64{f.sandboxReclaim}, "sessionId": c.Data.ID}, h...)
		if resp.Status != 201 || string(resp.Body) != "{\"status\":\"success\"}\n" {
			t.Fatalf("select: %d %s", resp.Status, resp.Body)
		}
		var steps struct {
			Status string
			Data   struct{ Steps []map[string]any }
		}
		e.Do("GET", fmt.Sprintf("/partner/steps/session/%d", c.Data.ID), nil, h...).Decode(t, &steps)
		if steps.Status != "success" || len(steps.Data.Steps) != 1 || steps.Data.Steps[0]["status"] != "PENDING" || steps.Data.Steps[0]["type"] != "reclaim" {
			t.Fatalf("steps: %+v", steps)
		}
		stepID := int64(steps.Data.Steps[0]["id"].(float64))
		var init struct {
			Status string
			Data   struct {
				RedirectURL string
				FormData    map[string]any
				Metadata    map[string]any
			}
		}
		e.Do("POST", "/partner/step/initiate", map[string]any{"stepId": stepID}, h...).Decode(t, &init)
		if init.Data.FormData["nonce"] == "" || init.Data.FormData["providerId"] == "" || !strings.Contains(init.Data.FormData["context"].(string), init.Data.FormData["nonce"].(string)) {
			t.Fatalf("initiate: %+v", init)
		}
		proof := f.sandboxProof(t, stepID)
		resp = e.Do("POST", "/partner/step/submit", map[string]any{"stepId": stepID, "proofs": []json.RawMessage{proof}}, h...)
		if resp.Status != 201 {
			t.Fatalf("submit: %d %s", resp.Status, resp.Body)
		}
		var step map[string]any
		e.Do("GET", fmt.Sprintf("/partner/steps/%d", stepID), nil, h...).Decode(t, &step)
		if step["status"] != "VERIFIED" || !strings.Contains(fmt.Sprint(step["results"]), "monthlyIncome") {
			t.Fatalf("step after submit: %v", step)
		}
		var got struct{ Data map[string]any }
		e.Do("GET", fmt.Sprintf("/partner/session/%d", c.Data.ID), nil, "x-api-key", f.test).Decode(t, &got)
		if got.Data["status"] != "COMPLETED" || got.Data["applicantEmail"] != "john.doe@example.com" {
			t.Fatalf("session after the workflow: %v", got.Data)
		}

		// Under the "always" policy the session waits for a reviewer, who approves it.
		if err := e.App.Verify.SetReviewPolicy(e.System, "acme", verigate.ReviewAlways); err != nil {
			t.Fatal(err)
		}
		c2 := f.createSession(t, f.test, nil)
		csrf2 := f.csrf(t, c2)
		step2 := f.startStep(t, c2, csrf2, f.sandboxReclaim)
		e.Do("POST", "/partner/step/submit", map[string]any{"stepId": step2, "proofs": []json.RawMessage{f.sandboxProof(t, step2)}}, "x-csrf-token", csrf2)
		var list struct {
			Data  []map[string]any
			Total int
		}
		e.Do("GET", "/partner/reviewer/sessions?status=REVIEWING", nil, "x-api-key", f.test).Decode(t, &list)
		if list.Total != 1 || int64(list.Data[0]["id"].(float64)) != c2.Data.ID {
			t.Fatalf("review queue: %+v", list)
		}
		wantError(t, e.Do("POST", fmt.Sprintf("/partner/reviewer/sessions/%d/reject", c2.Data.ID), map[string]string{}, "x-api-key", f.test), 400, "reason")
		resp = e.Do("POST", fmt.Sprintf("/partner/reviewer/sessions/%d/approve", c2.Data.ID), nil, "x-api-key", f.test)
		if resp.Status != 201 || resp.JSON(t)["data"].(map[string]any)["status"] != "COMPLETED" {
			t.Fatalf("approve: %d %s", resp.Status, resp.Body)
		}
		wantError(t, e.Do("POST", fmt.Sprintf("/partner/reviewer/sessions/%d/approve", c2.Data.ID), nil, "x-api-key", f.test), 409, "")
		evs, _ := e.App.DB.ListAuditEvents(e.System, verigate.AuditFilter{Action: "verification.approve"})
		if len(evs) != 1 || evs[0].Details["reviewer"] == "" {
			t.Fatalf("approval audit: %+v", evs)
		}
		// Every status change reached the outbox.
		org, _ := e.App.Access.Organization(e.System, "acme")
		events, _ := e.App.DB.ListEvents(e.System, org.ID, 0, 100)
		var types []string
		for _, ev := range events {
			types = append(types, string(ev.Type))
		}
		for _, want := range []string{"verification.created", "verification.processing", "step.updated", "verification.completed", "verification.reviewing"} {
			if !strings.Contains(strings.Join(types, ","), want) {
				t.Errorf("outbox lacks %s: %v", want, types)
			}
		}
	})
}

func TestProofOutcomes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		c := f.createSession(t, f.test, nil)
		csrf := f.csrf(t, c)
		h := []string{"x-csrf-token", csrf}
		stepID := f.startStep(t, c, csrf, f.sandboxReclaim)
		stepStatus := func(id int64) string {
			var s map[string]any
			e.Do("GET", fmt.Sprintf("/partner/steps/%d", id), nil, h...).Decode(t, &s)
			return s["status"].(string)
		}

		// The seed's placeholder proof: 400, step unchanged.
		placeholder := `{"identifier":"proof-id-123","claimData":{"provider":"data-provider","parameters":{},"context":"verification-context"},"signatures":["signature1","signature2"],"witnesses":[{"id":"witness-1","url":"https://witness.example.com"}]}`
		resp := e.Do("POST", "/partner/step/submit", `{"stepId":`+fmt.Sprint(stepID)+`,"proofs":[`+placeholder+`]}`, append(h, "Content-Type", "application/json")...)
		wantError(t, resp, 400, "proof-id-123")
		if s := stepStatus(stepID); s != "INITIATED" {
			t.Fatalf("placeholder proof changed the step to %s", s)
		}
		// A proof for another step (its nonce) fails the step, with the reason.
		c2 := f.createSession(t, f.test, nil)
		csrf2 := f.csrf(t, c2)
		other := f.startStep(t, c2, csrf2, f.sandboxReclaim)
		resp = e.Do("POST", "/partner/step/submit", map[string]any{"stepId": stepID, "proofs": []json.RawMessage{f.sandboxProof(t, other)}}, h...)
		wantError(t, resp, 400, "nonce")
		if s := stepStatus(stepID); s != "FAILED" {
			t.Fatalf("step after a failed proof: %s", s)
		}
		var sess struct{ Data map[string]any }
		e.Do("GET", fmt.Sprintf("/partner/session/%d", c.Data.ID), nil, "x-api-key", f.test).Decode(t, &sess)
		if sess.Data["status"] != "REVIEWING" {
			t.Fatalf("session after its only step failed (on_failure): %v", sess.Data["status"])
		}
		// Replay: a proof accepted once is refused the second time.
		proof := f.sandboxProof(t, other)
		if r := e.Do("POST", "/partner/step/submit", map[string]any{"stepId": other, "proofs": []json.RawMessage{proof}}, "x-csrf-token", csrf2); r.Status != 201 {
			t.Fatalf("good proof: %d %s", r.Status, r.Body)
		}
		c3 := f.createSession(t, f.test, nil)
		csrf3 := f.csrf(t, c3)
		third := f.startStep(t, c3, csrf3, f.sandboxReclaim)
		wantError(t, e.Do("POST", "/partner/step/submit", map[string]any{"stepId": third, "proofs": []json.RawMessage{proof}}, "x-csrf-token", csrf3), 400, "already accepted")
		// A sandbox proof on a live session is not trusted.
		live := f.createSession(t, f.live, map[string]any{"allowedSources": []int64{1}})
		csrfL := f.csrf(t, live)
		ls := f.startStep(t, live, csrfL, 1)
		if _, err := e.App.Verify.SandboxProof(e.System, ls); verigate.ErrorCode(err) != verigate.EINVALID {
			t.Fatalf("sandbox proof for a live session: %v", err)
		}
		// Submitting to a step that is not initiated, or twice, is 409.
		wantError(t, e.Do("POST", "/partner/step/submit", map[string]any{"stepId": other, "proofs": []json.RawMessage{proof}}, "x-csrf-token", csrf2), 409, "")
	})
}

func TestCSRF(t *testing.T) {
	e := sqliteEnv(t)
	f := newFixture(t, e)
	a, b := f.createSession(t, f.test, nil), f.createSession(t, f.test, nil)
	ca, cb := f.csrf(t, a), f.csrf(t, b)
	stepB := f.startStep(t, b, cb, f.sandboxReclaim)
	for _, r := range []struct{ method, path string }{
		{"GET", fmt.Sprintf("/partner/sources/session/%d", b.Data.ID)},
		{"GET", fmt.Sprintf("/partner/steps/session/%d", b.Data.ID)},
		{"GET", fmt.Sprintf("/partner/steps/%d", stepB)},
		{"GET", fmt.Sprintf("/partner/sources/search?text=pay&sessionId=%d", b.Data.ID)},
		{"GET", "/partner/steps/999999"},
	} {
		wantError(t, e.Do(r.method, r.path, nil, "x-csrf-token", ca), 403, "This CSRF token belongs to another verification session.")
	}
	wantError(t, e.Do("POST", "/partner/step/initiate", map[string]any{"stepId": stepB}, "x-csrf-token", ca), 403, "")
	wantError(t, e.Do("POST", "/partner/step/select-data-source", map[string]any{"dataSourceIds": []int64{1}, "sessionId": b.Data.ID}, "x-csrf-token", ca), 403, "")
	// A link token is never a CSRF token; a missing one is 401. The
	// service's applicant-token errors, in this API's words.
	wantError(t, e.Do("GET", fmt.Sprintf("/partner/steps/session/%d", a.Data.ID), nil, "x-csrf-token", a.Data.VerificationLink.Token), 401, "Invalid CSRF token.")
	wantError(t, e.Do("GET", fmt.Sprintf("/partner/steps/session/%d", a.Data.ID), nil), 401, "Missing x-csrf-token header")
	// CSRF tokens live 15 minutes; the link works again for a fresh one.
	e.Clock.Advance(15*time.Minute + time.Second)
	wantError(t, e.Do("GET", fmt.Sprintf("/partner/steps/session/%d", a.Data.ID), nil, "x-csrf-token", ca), 401, "The CSRF token has expired; open the verification link again.")
	ca = f.csrf(t, a)
	if r := e.Do("GET", fmt.Sprintf("/partner/steps/session/%d", a.Data.ID), nil, "x-csrf-token", ca); r.Status != 200 {
		t.Fatalf("fresh CSRF token: %d", r.Status)
	}
	// The link's session id must match; a renewed link retires the old token.
	wantError(t, e.Do("GET", fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", a.Data.VerificationLink.Token, b.Data.ID), nil, "Accept", "application/json"), 401, "")
	resp := e.Do("POST", fmt.Sprintf("/partner/session/%d/link", a.Data.ID), nil, "x-api-key", f.test)
	if resp.Status != 201 {
		t.Fatalf("renew link: %d %s", resp.Status, resp.Body)
	}
	wantError(t, e.Do("GET", fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", a.Data.VerificationLink.Token, a.Data.ID), nil, "Accept", "application/json"), 401, "")
	// CSRF tokens from the old link end with it.
	wantError(t, e.Do("GET", fmt.Sprintf("/partner/steps/session/%d", a.Data.ID), nil, "x-csrf-token", ca), 401, "")
	newToken := resp.JSON(t)["data"].(map[string]any)["token"].(string)
	if r := e.Do("GET", fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", newToken, a.Data.ID), nil, "Accept", "application/json"); r.Status != 200 {
		t.Fatalf("renewed link: %d", r.Status)
	}
	// A browser gets an HttpOnly, SameSite=Lax cookie and a redirect into
	// the journey (internal/web/journey tests the pages).
	r := e.Do("GET", fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", newToken, a.Data.ID), nil, "Accept", "text/html")
	if c := r.Header.Get("Set-Cookie"); r.Status != 303 || !strings.Contains(c, "vg_journey=") || !strings.Contains(c, "HttpOnly") ||
		!strings.Contains(c, "SameSite=Lax") || r.Header.Get("Location") != fmt.Sprintf("/journey/sessions/%d", a.Data.ID) {
		t.Fatalf("browser: %d %v", r.Status, r.Header)
	}
}

func TestExpiry(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		c := f.createSession(t, f.test, map[string]any{"expiryDate": e.Clock.Now().Add(time.Hour).Format(time.RFC3339)})
		csrf := f.csrf(t, c)
		step := f.startStep(t, c, csrf, f.sandboxReclaim)
		other := f.createSession(t, f.test, nil) // expires in 48h
		e.Clock.Advance(2 * time.Hour)
		n, err := e.App.Jobs.ExpireDue(e.System)
		if err != nil || n != 1 {
			t.Fatalf("ExpireDue = %d, %v", n, err)
		}
		var s struct{ Data map[string]any }
		e.Do("GET", fmt.Sprintf("/partner/session/%d", c.Data.ID), nil, "x-api-key", f.test).Decode(t, &s)
		steps := s.Data["steps"].([]any)
		if s.Data["status"] != "EXPIRED" || steps[0].(map[string]any)["status"] != "EXPIRED" || int64(steps[0].(map[string]any)["id"].(float64)) != step {
			t.Fatalf("after expiry: %v", s.Data)
		}
		e.Do("GET", fmt.Sprintf("/partner/session/%d", other.Data.ID), nil, "x-api-key", f.test).Decode(t, &s)
		if s.Data["status"] != "PENDING" {
			t.Fatalf("a session not yet due expired: %v", s.Data["status"])
		}
		wantError(t, e.Do("GET", fmt.Sprintf("/partner/verification/verify?token=%s&sessionId=%d", c.Data.VerificationLink.Token, c.Data.ID), nil, "Accept", "application/json"), 401, "")
		if n, _ := e.App.Jobs.ExpireDue(e.System); n != 0 {
			t.Fatalf("second run expired %d more", n)
		}
	})
}
