package partner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/connect"
	"github.com/verigate/verigate/internal/openapi/openapitest"
)

// nonEmpty in an expected payload accepts any non-empty value.
const nonEmpty = "<non-empty>"

type wantEvent struct {
	typ     verigate.EventType
	subject any // a session id (int64), a connection id or a call's voice id (string)
	payload map[string]any
}

// outbox reads the events written since the last read.
type outbox struct {
	e    *apptest.Env
	last int64
	// org and mode every event must have ("" for any organization)
	org  string
	mode verigate.Mode
	// failures collects the connection.failed events read, for the
	// Reconbanker check.
	failures []verigate.Event
	required []verigate.Event
}

// expect checks the events written since the last read are want, in order,
// each with its subject, type and whole payload.
func (o *outbox) expect(t *testing.T, what string, want ...wantEvent) {
	t.Helper()
	got, err := o.e.App.DB.OutboxAfter(context.Background(), o.last, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 {
		o.last = got[len(got)-1].ID
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d: %+v", what, len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		var payload map[string]any
		if err := json.Unmarshal(g.Payload, &payload); err != nil {
			t.Fatalf("%s: event %d payload %s: %v", what, i, g.Payload, err)
		}
		if g.Type != w.typ || g.Subject != fmt.Sprint(w.subject) || g.Mode != o.mode || g.OrgID == "" || (o.org != "" && g.OrgID != o.org) {
			t.Errorf("%s: event %d is %s about %q (%s, %q), want %s about %v (%s, %q)", what, i, g.Type, g.Subject, g.Mode, g.OrgID, w.typ, w.subject, o.mode, o.org)
		}
		o.checkWebhook(t, what, g)
		if len(payload) != len(w.payload) {
			t.Errorf("%s: %s payload %s, want keys %v", what, g.Type, g.Payload, w.payload)
		}
		for k, v := range w.payload {
			if v == nonEmpty {
				if s, _ := payload[k].(string); s == "" {
					t.Errorf("%s: %s payload %s: %s is empty", what, g.Type, g.Payload, k)
				}
				continue
			}
			if fmt.Sprint(payload[k]) != fmt.Sprint(v) {
				t.Errorf("%s: %s payload %s: %s = %v, want %v", what, g.Type, g.Payload, k, payload[k], v)
			}
		}
	}
}

// checkWebhook checks an event's webhook bodies: each is one the OpenAPI
// document allows for its type, and personal data (the "pii" member) is
// in the body only with includePII.
func (o *outbox) checkWebhook(t *testing.T, what string, g verigate.Event) {
	t.Helper()
	with, err := g.WebhookBody(true)
	if err != nil {
		t.Fatal(err)
	}
	without, err := g.WebhookBody(false)
	if err != nil {
		t.Fatal(err)
	}
	openapitest.CheckWebhook(t, with)
	openapitest.CheckWebhook(t, without)
	hasPII := bytes.Contains(g.Payload, []byte(`"pii":`))
	if bytes.Contains(without, []byte(`"pii"`)) || hasPII != bytes.Contains(with, []byte(`"pii":{`)) {
		t.Errorf("%s: %s: with PII %s, without %s", what, g.Type, with, without)
	}
	switch g.Type {
	case verigate.EventConnectionFailed:
		o.failures = append(o.failures, g)
	case verigate.EventAssistanceRequired:
		o.required = append(o.required, g)
	}
}

// session is the payload of a session's event (pii: its metadata, and
// the applicant's details as given).
func session(id int64, status verigate.SessionStatus, extra ...any) map[string]any {
	m := map[string]any{"sessionId": float64(id), "status": string(status), "applicantId": "", "pii": map[string]any{"metadata": map[string]any{}}}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

// step is the payload of a step.updated event of session id.
func step(id int64, status verigate.SessionStatus, stepID, sourceID int64, stepStatus verigate.StepStatus, extra ...any) map[string]any {
	return session(id, status, append([]any{"stepId", stepID, "sourceId", sourceID, "stepStatus", string(stepStatus)}, extra...)...)
}

// assistance is the payload of an assistance event of account acct.
func assistance(acct string, status verigate.AssistStatus, accountStatus verigate.ConnectionStatus) map[string]any {
	m := map[string]any{"accountId": acct, "requestId": nonEmpty, "type": "otp", "status": string(status), "accountStatus": string(accountStatus),
		"descriptor": map[string]any{"length": 6, "type": "numeric", "purpose": "login"}, "expiresAt": nonEmpty}
	if status != verigate.AssistPending {
		m["resolvedAt"] = nonEmpty
	}
	return m
}

// connection is the payload of a connection event of account acct,
// carrying step stepID of session sessionID.
func connection(acct string, sourceID, sessionID, stepID int64, kind verigate.FailureKind) map[string]any {
	m := map[string]any{"accountId": acct, "status": "connected", "sourceId": sourceID, "sessionId": sessionID, "stepId": stepID}
	if kind != "" {
		m["status"], m["failureReason"], m["failureKind"] = "failed", nonEmpty, string(kind)
	}
	return m
}

// TestOutboxEvents reads the outbox after every state change of every
// object — sessions, steps, connections, assistance requests, phone calls —
// and checks each event's subject, type and payload, and that its
// webhook bodies match the OpenAPI document with and without PII.
func TestOutboxEvents(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		o := &outbox{e: e, mode: verigate.ModeTest}
		o.expect(t, "setup")
		bank := sourceID(t, e, "Sandbox Bank")
		reclaim := f.sandboxReclaim
		submit := func(csrf string, step int64, proof json.RawMessage) {
			e.Do("POST", "/partner/step/submit", map[string]any{"stepId": step, "proofs": []json.RawMessage{proof}}, "x-csrf-token", csrf)
		}
		work := func() {
			if _, err := e.App.Worker.Work(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		connectStep := func(csrf string, stepID int64, username string) string {
			var conn struct{ Data struct{ AccountID string } }
			e.Do("POST", "/partner/step/connect", map[string]any{"stepId": stepID, "credentials": map[string]string{"username": username, "password": "pass"}},
				"x-csrf-token", csrf).Decode(t, &conn)
			return conn.Data.AccountID
		}

		// A session: created (with its id), processing, its step initiated,
		// then verified; completed. Its metadata and applicant are PII.
		a := f.createSession(t, f.test, map[string]any{"applicantId": "app-1", "metadata": map[string]any{"loan": "L-1"},
			"applicantFirstName": "Jane", "applicantEmail": "jane@example.com"})
		piiA := map[string]any{"metadata": map[string]any{"loan": "L-1"}, "applicantFirstName": "Jane", "applicantEmail": "jane@example.com"}
		o.expect(t, "created", wantEvent{verigate.EventVerificationCreated, a.Data.ID,
			session(a.Data.ID, verigate.SessionPending, "applicantId", "app-1", "pii", piiA)})
		csrfA := f.csrf(t, a)
		stepA := f.startStep(t, a, csrfA, reclaim)
		o.expect(t, "select and initiate",
			wantEvent{verigate.EventVerificationProcessing, a.Data.ID, session(a.Data.ID, verigate.SessionProcessing, "applicantId", "app-1", "pii", piiA)},
			wantEvent{verigate.EventStepUpdated, a.Data.ID, step(a.Data.ID, verigate.SessionProcessing, stepA, reclaim, verigate.StepInitiated, "applicantId", "app-1", "pii", piiA)})
		if r := e.Do("POST", "/partner/step/initiate", map[string]any{"stepId": stepA}, "x-csrf-token", csrfA); r.Status != 201 {
			t.Fatalf("initiate again: %d %s", r.Status, r.Body)
		}
		o.expect(t, "initiated again (INITIATED stays INITIATED: no change, no event)")
		submit(csrfA, stepA, f.sandboxProof(t, stepA))
		o.expect(t, "proof verified",
			wantEvent{verigate.EventStepUpdated, a.Data.ID, step(a.Data.ID, verigate.SessionProcessing, stepA, reclaim, verigate.StepVerified, "applicantId", "app-1", "pii", piiA)},
			wantEvent{verigate.EventVerificationCompleted, a.Data.ID, session(a.Data.ID, verigate.SessionCompleted, "applicantId", "app-1", "pii", piiA)})

		// A failed step sends the session to review; the reviewer rejects it.
		b := f.createSession(t, f.test, nil)
		csrfB := f.csrf(t, b)
		stepB := f.startStep(t, b, csrfB, reclaim)
		o.expect(t, "processing", wantEvent{verigate.EventVerificationCreated, b.Data.ID, session(b.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, b.Data.ID, session(b.Data.ID, verigate.SessionProcessing)},
			wantEvent{verigate.EventStepUpdated, b.Data.ID, step(b.Data.ID, verigate.SessionProcessing, stepB, reclaim, verigate.StepInitiated)})
		c := f.createSession(t, f.test, nil)
		csrfC := f.csrf(t, c)
		stepC := f.startStep(t, c, csrfC, reclaim)
		o.expect(t, "another", wantEvent{verigate.EventVerificationCreated, c.Data.ID, session(c.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, c.Data.ID, session(c.Data.ID, verigate.SessionProcessing)},
			wantEvent{verigate.EventStepUpdated, c.Data.ID, step(c.Data.ID, verigate.SessionProcessing, stepC, reclaim, verigate.StepInitiated)})
		submit(csrfB, stepB, f.sandboxProof(t, stepC)) // another step's proof: its nonce is wrong
		o.expect(t, "proof refused",
			wantEvent{verigate.EventStepUpdated, b.Data.ID, step(b.Data.ID, verigate.SessionProcessing, stepB, reclaim, verigate.StepFailed, "reason", nonEmpty)},
			wantEvent{verigate.EventVerificationReviewing, b.Data.ID, session(b.Data.ID, verigate.SessionReviewing)})
		e.Do("POST", fmt.Sprintf("/partner/reviewer/sessions/%d/reject", b.Data.ID), map[string]string{"reason": "wrong person"}, "x-api-key", f.test)
		o.expect(t, "rejected", wantEvent{verigate.EventVerificationRejected, b.Data.ID,
			session(b.Data.ID, verigate.SessionRejected, "reviewerId", nonEmpty, "reason", "wrong person")})

		// A connector step: the step goes IN_PROGRESS, the login asks for a
		// code, gets it, connects; the step completes, and so does the session.
		d := f.createSession(t, f.test, nil)
		csrfD := f.csrf(t, d)
		stepD := f.startStep(t, d, csrfD, bank)
		o.expect(t, "connector session", wantEvent{verigate.EventVerificationCreated, d.Data.ID, session(d.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, d.Data.ID, session(d.Data.ID, verigate.SessionProcessing)},
			wantEvent{verigate.EventStepUpdated, d.Data.ID, step(d.Data.ID, verigate.SessionProcessing, stepD, bank, verigate.StepInitiated)})
		acct := connectStep(csrfD, stepD, "otp")
		o.expect(t, "connect", wantEvent{verigate.EventStepUpdated, d.Data.ID, step(d.Data.ID, verigate.SessionProcessing, stepD, bank, verigate.StepInProgress)})
		work()
		o.expect(t, "code asked", wantEvent{verigate.EventAssistanceRequired, acct, assistance(acct, verigate.AssistPending, verigate.ConnAwaiting)})
		e.Do("POST", "/partner/step/otp", map[string]any{"stepId": stepD, "code": "123456"}, "x-csrf-token", csrfD)
		o.expect(t, "code submitted")
		work()
		o.expect(t, "connected",
			wantEvent{verigate.EventAssistanceResolved, acct, assistance(acct, verigate.AssistFulfilled, verigate.ConnConnected)},
			wantEvent{verigate.EventConnectionConnected, acct, connection(acct, bank, d.Data.ID, stepD, "")},
			wantEvent{verigate.EventStepUpdated, d.Data.ID, step(d.Data.ID, verigate.SessionProcessing, stepD, bank, verigate.StepCompleted)},
			wantEvent{verigate.EventVerificationCompleted, d.Data.ID, session(d.Data.ID, verigate.SessionCompleted)})

		// A login that waits too long for its code fails (the applicant did
		// not complete it: a login failure); so do its step and, under the
		// "never" policy, its session.
		if err := e.App.Verify.SetReviewPolicy(e.System, "acme", verigate.ReviewNever); err != nil {
			t.Fatal(err)
		}
		g := f.createSession(t, f.test, nil)
		csrfG := f.csrf(t, g)
		stepG := f.startStep(t, g, csrfG, bank)
		acct = connectStep(csrfG, stepG, "otp")
		work()
		o.expect(t, "waiting", wantEvent{verigate.EventVerificationCreated, g.Data.ID, session(g.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, g.Data.ID, session(g.Data.ID, verigate.SessionProcessing)},
			wantEvent{verigate.EventStepUpdated, g.Data.ID, step(g.Data.ID, verigate.SessionProcessing, stepG, bank, verigate.StepInitiated)},
			wantEvent{verigate.EventStepUpdated, g.Data.ID, step(g.Data.ID, verigate.SessionProcessing, stepG, bank, verigate.StepInProgress)},
			wantEvent{verigate.EventAssistanceRequired, acct, assistance(acct, verigate.AssistPending, verigate.ConnAwaiting)})
		e.Clock.Advance(connect.AssistanceTTL + time.Second)
		work()
		o.expect(t, "code never came",
			wantEvent{verigate.EventAssistanceResolved, acct, assistance(acct, verigate.AssistExpired, verigate.ConnFailed)},
			wantEvent{verigate.EventConnectionFailed, acct, connection(acct, bank, g.Data.ID, stepG, verigate.FailureLogin)},
			wantEvent{verigate.EventStepUpdated, g.Data.ID, step(g.Data.ID, verigate.SessionProcessing, stepG, bank, verigate.StepFailed, "reason", nonEmpty)},
			wantEvent{verigate.EventVerificationFailed, g.Data.ID, session(g.Data.ID, verigate.SessionFailed)})

		// A wrong password fails the login at once; under "always" the
		// session goes to review, and the reviewer approves it.
		if err := e.App.Verify.SetReviewPolicy(e.System, "acme", verigate.ReviewAlways); err != nil {
			t.Fatal(err)
		}
		h := f.createSession(t, f.test, nil)
		csrfH := f.csrf(t, h)
		stepH := f.startStep(t, h, csrfH, bank)
		var conn struct{ Data struct{ AccountID string } }
		e.Do("POST", "/partner/step/connect", map[string]any{"stepId": stepH, "credentials": map[string]string{"username": "good", "password": "nope"}}, "x-csrf-token", csrfH).Decode(t, &conn)
		acct = conn.Data.AccountID
		o.expect(t, "another connector session", wantEvent{verigate.EventVerificationCreated, h.Data.ID, session(h.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, h.Data.ID, session(h.Data.ID, verigate.SessionProcessing)},
			wantEvent{verigate.EventStepUpdated, h.Data.ID, step(h.Data.ID, verigate.SessionProcessing, stepH, bank, verigate.StepInitiated)},
			wantEvent{verigate.EventStepUpdated, h.Data.ID, step(h.Data.ID, verigate.SessionProcessing, stepH, bank, verigate.StepInProgress)})
		work()
		o.expect(t, "login refused",
			wantEvent{verigate.EventConnectionFailed, acct, connection(acct, bank, h.Data.ID, stepH, verigate.FailureLogin)},
			wantEvent{verigate.EventStepUpdated, h.Data.ID, step(h.Data.ID, verigate.SessionProcessing, stepH, bank, verigate.StepFailed, "reason", nonEmpty)},
			wantEvent{verigate.EventVerificationReviewing, h.Data.ID, session(h.Data.ID, verigate.SessionReviewing)})
		e.Do("POST", fmt.Sprintf("/partner/reviewer/sessions/%d/approve", h.Data.ID), nil, "x-api-key", f.test)
		o.expect(t, "approved", wantEvent{verigate.EventVerificationCompleted, h.Data.ID,
			session(h.Data.ID, verigate.SessionCompleted, "reviewerId", nonEmpty)})

		// A login that succeeds but cannot fetch the data: a scrape failure.
		n := f.createSession(t, f.test, nil)
		csrfN := f.csrf(t, n)
		stepN := f.startStep(t, n, csrfN, bank)
		acct = connectStep(csrfN, stepN, "nodata")
		work()
		o.expect(t, "data not fetched", wantEvent{verigate.EventVerificationCreated, n.Data.ID, session(n.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, n.Data.ID, session(n.Data.ID, verigate.SessionProcessing)},
			wantEvent{verigate.EventStepUpdated, n.Data.ID, step(n.Data.ID, verigate.SessionProcessing, stepN, bank, verigate.StepInitiated)},
			wantEvent{verigate.EventStepUpdated, n.Data.ID, step(n.Data.ID, verigate.SessionProcessing, stepN, bank, verigate.StepInProgress)},
			wantEvent{verigate.EventConnectionFailed, acct, connection(acct, bank, n.Data.ID, stepN, verigate.FailureScrape)},
			wantEvent{verigate.EventStepUpdated, n.Data.ID, step(n.Data.ID, verigate.SessionProcessing, stepN, bank, verigate.StepFailed, "reason", nonEmpty)},
			wantEvent{verigate.EventVerificationReviewing, n.Data.ID, session(n.Data.ID, verigate.SessionReviewing)})

		// Reconbanker's notifications of these events: the code asked for,
		// two login failures, a scrape failure.
		var types []string
		for _, ev := range append(o.required, o.failures...) {
			body, ok, err := ev.ReconbankerBody()
			var m map[string]any
			if err != nil || !ok || json.Unmarshal(body, &m) != nil || m["account_id"] != ev.Subject || len(m) != 5 {
				t.Fatalf("Reconbanker body of %s: %s %v %v", ev.Type, body, ok, err)
			}
			types = append(types, fmt.Sprint(m["type"], " ", m["status"]))
		}
		if fmt.Sprint(types) != "[assistance_required awaiting_code assistance_required awaiting_code login_failed failed login_failed failed scrape_failed failed]" {
			t.Errorf("Reconbanker notifications: %v", types)
		}

		// A session nobody finishes expires, with its open step.
		x := f.createSession(t, f.test, nil)
		o.expect(t, "to expire", wantEvent{verigate.EventVerificationCreated, x.Data.ID, session(x.Data.ID, verigate.SessionPending)})
		e.Clock.Advance(49 * time.Hour)
		if _, err := e.App.Jobs.ExpireDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		o.expect(t, "expired", // c, left PROCESSING above, too
			wantEvent{verigate.EventStepUpdated, c.Data.ID, step(c.Data.ID, verigate.SessionExpired, stepC, reclaim, verigate.StepExpired)},
			wantEvent{verigate.EventVerificationExpired, c.Data.ID, session(c.Data.ID, verigate.SessionExpired)},
			wantEvent{verigate.EventVerificationExpired, x.Data.ID, session(x.Data.ID, verigate.SessionExpired)})

		// A phone call: queued, assigned, enrolled, rejected — live events of
		// the institution, the caller and member under pii.
		inst, err := e.App.Access.Organization(e.System, "acme-cu")
		if err != nil {
			t.Fatal(err)
		}
		o.org, o.mode = inst.ID, verigate.ModeLive
		call, err := e.App.Calls.Simulate(e.System, inst, "+1 555 010 2000", "Jane Roe")
		if err != nil {
			t.Fatal(err)
		}
		v := call.VoiceID
		callData := func(status verigate.CallStatus, extra ...any) map[string]any {
			m := map[string]any{"voiceId": v, "institutionKey": "acme-cu", "status": string(status), "receivedAt": nonEmpty,
				"pii": map[string]any{"phoneNumber": "+15550102000", "callerName": "Jane Roe"}}
			for i := 0; i+1 < len(extra); i += 2 {
				m[extra[i].(string)] = extra[i+1]
			}
			return m
		}
		member := map[string]any{"phoneNumber": "+15550102000", "callerName": "Jane Roe", "memberName": "Jane R."}
		o.expect(t, "call queued", wantEvent{verigate.EventCallQueued, v, callData(verigate.CallQueued)})
		tok := ssoLogin(t, e, f.r)
		op := []string{"SsoToken", tok, "InstitutionKey", "acme-cu", "RequestedBy", "jdoe"}
		if r := e.Do("POST", "/external/calls/assign", map[string]string{"voiceId": v, "personId": "M-1001", "memberName": "Jane R."}, op...); r.Status != 200 {
			t.Fatalf("assign: %d %s", r.Status, r.Body)
		}
		o.expect(t, "call assigned", wantEvent{verigate.EventCallAssigned, v, callData(verigate.CallAssigned, "personId", "M-1001", "pii", member)})
		if r := e.Do("POST", "/external/calls/"+v+"/enroll", map[string]string{"validationType": "kba"}, op...); r.Status != 200 {
			t.Fatalf("enroll: %d %s", r.Status, r.Body)
		}
		o.expect(t, "call enrolled", wantEvent{verigate.EventCallEnrolled, v,
			callData(verigate.CallEnrolled, "personId", "M-1001", "validationType", "kba", "pii", member)})
		if r := e.Do("POST", "/external/calls/"+v+"/enroll", map[string]string{"validationType": "kba"}, op...); r.Status != 409 {
			t.Fatalf("enroll twice: %d %s", r.Status, r.Body)
		}
		o.expect(t, "a refused move writes nothing")
		if r := e.Do("POST", "/external/calls/"+v+"/reject-voice", map[string]string{"reason": "voice mismatch"}, op...); r.Status != 200 {
			t.Fatalf("reject-voice: %d %s", r.Status, r.Body)
		}
		o.expect(t, "call rejected", wantEvent{verigate.EventCallRejected, v,
			callData(verigate.CallRejected, "personId", "M-1001", "validationType", "kba", "reason", "voice mismatch", "pii", member)})
	})
}

// ssoLogin signs r's service account in on the reseller surface and
// returns its SSO token.
func ssoLogin(t *testing.T, e *apptest.Env, r *apptest.Reseller) string {
	t.Helper()
	resp := e.Do("POST", "/external/token/request", map[string]string{"email": r.Email, "password": r.Password}, "accessToken", r.AccessToken)
	if resp.Status != 200 {
		t.Fatalf("login: %d %s", resp.Status, resp.Body)
	}
	return resp.JSON(t)["token"].(string)
}
