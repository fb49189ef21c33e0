package partner_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/connect"
)

// nonEmpty in an expected payload accepts any non-empty value.
const nonEmpty = "<non-empty>"

type wantEvent struct {
	typ     verigate.EventType
	subject any // a session id (int64) or a connection id (string)
	payload map[string]any
}

// outbox reads the events written since the last read.
type outbox struct {
	e    *apptest.Env
	last int64
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
		if g.Type != w.typ || g.Subject != fmt.Sprint(w.subject) || g.Mode != verigate.ModeTest || g.OrgID == "" {
			t.Errorf("%s: event %d is %s about %q (%s, %q), want %s about %v", what, i, g.Type, g.Subject, g.Mode, g.OrgID, w.typ, w.subject)
		}
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

// session is the payload of a session's event.
func session(id int64, status verigate.SessionStatus, extra ...any) map[string]any {
	m := map[string]any{"sessionId": float64(id), "status": string(status), "applicantId": "", "metadata": map[string]any{}}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

// TestOutboxEvents reads the outbox after every state change of every
// object — sessions, steps, connections, assistance requests — and checks
// each event's subject, type and payload. (Phone calls keep their own
// event log and write no outbox events.)
func TestOutboxEvents(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		o := &outbox{e: e}
		o.expect(t, "setup")
		bank := sourceID(t, e, "Sandbox Bank")
		submit := func(csrf string, step int64, proof json.RawMessage) {
			e.Do("POST", "/partner/step/submit", map[string]any{"stepId": step, "proofs": []json.RawMessage{proof}}, "x-csrf-token", csrf)
		}
		work := func() {
			if _, err := e.App.Worker.Work(context.Background()); err != nil {
				t.Fatal(err)
			}
		}

		// A session: created (with its id), processing, a verified step, completed.
		a := f.createSession(t, f.test, map[string]any{"applicantId": "app-1", "metadata": map[string]any{"loan": "L-1"}})
		o.expect(t, "created", wantEvent{verigate.EventVerificationCreated, a.Data.ID,
			session(a.Data.ID, verigate.SessionPending, "applicantId", "app-1", "metadata", map[string]any{"loan": "L-1"})})
		csrfA := f.csrf(t, a)
		stepA := f.startStep(t, a, csrfA, f.sandboxReclaim)
		o.expect(t, "select and initiate", wantEvent{verigate.EventVerificationProcessing, a.Data.ID,
			session(a.Data.ID, verigate.SessionProcessing, "applicantId", "app-1", "metadata", map[string]any{"loan": "L-1"})})
		submit(csrfA, stepA, f.sandboxProof(t, stepA))
		o.expect(t, "proof verified",
			wantEvent{verigate.EventStepVerified, a.Data.ID, session(a.Data.ID, verigate.SessionProcessing, "applicantId", "app-1", "metadata", map[string]any{"loan": "L-1"}, "stepId", stepA)},
			wantEvent{verigate.EventVerificationCompleted, a.Data.ID, session(a.Data.ID, verigate.SessionCompleted, "applicantId", "app-1", "metadata", map[string]any{"loan": "L-1"})})

		// A failed step sends the session to review; the reviewer rejects it.
		b := f.createSession(t, f.test, nil)
		csrfB := f.csrf(t, b)
		stepB := f.startStep(t, b, csrfB, f.sandboxReclaim)
		o.expect(t, "processing", wantEvent{verigate.EventVerificationCreated, b.Data.ID, session(b.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, b.Data.ID, session(b.Data.ID, verigate.SessionProcessing)})
		c := f.createSession(t, f.test, nil)
		csrfC := f.csrf(t, c)
		stepC := f.startStep(t, c, csrfC, f.sandboxReclaim)
		o.expect(t, "another", wantEvent{verigate.EventVerificationCreated, c.Data.ID, session(c.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, c.Data.ID, session(c.Data.ID, verigate.SessionProcessing)})
		submit(csrfB, stepB, f.sandboxProof(t, stepC)) // another step's proof: its nonce is wrong
		o.expect(t, "proof refused",
			wantEvent{verigate.EventStepFailed, b.Data.ID, session(b.Data.ID, verigate.SessionProcessing, "stepId", stepB, "reason", nonEmpty)},
			wantEvent{verigate.EventVerificationReviewing, b.Data.ID, session(b.Data.ID, verigate.SessionReviewing)})
		e.Do("POST", fmt.Sprintf("/partner/reviewer/sessions/%d/reject", b.Data.ID), map[string]string{"reason": "wrong person"}, "x-api-key", f.test)
		o.expect(t, "rejected", wantEvent{verigate.EventVerificationRejected, b.Data.ID,
			session(b.Data.ID, verigate.SessionRejected, "reviewerId", nonEmpty, "reason", "wrong person")})

		// A connector step: the login asks for a code, gets it, connects; the
		// step completes, and so does the session.
		d := f.createSession(t, f.test, nil)
		csrfD := f.csrf(t, d)
		stepD := f.startStep(t, d, csrfD, bank)
		o.expect(t, "connector session", wantEvent{verigate.EventVerificationCreated, d.Data.ID, session(d.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, d.Data.ID, session(d.Data.ID, verigate.SessionProcessing)})
		var conn struct{ Data struct{ AccountID string } }
		e.Do("POST", "/partner/step/connect", map[string]any{"stepId": stepD, "credentials": map[string]string{"username": "otp", "password": "pass"}}, "x-csrf-token", csrfD).Decode(t, &conn)
		acct := conn.Data.AccountID
		o.expect(t, "connect (the step moves to IN_PROGRESS, which announces nothing)")
		work()
		o.expect(t, "code asked", wantEvent{verigate.EventAssistanceRequired, acct, map[string]any{"account_id": acct, "request_id": nonEmpty,
			"type": "otp", "descriptor": map[string]any{"length": 6, "type": "numeric", "purpose": "login"}}})
		e.Do("POST", "/partner/step/otp", map[string]any{"stepId": stepD, "code": "123456"}, "x-csrf-token", csrfD)
		o.expect(t, "code submitted")
		work()
		o.expect(t, "connected",
			wantEvent{verigate.EventAssistanceResolved, acct, map[string]any{"account_id": acct, "request_id": nonEmpty, "status": "fulfilled"}},
			wantEvent{verigate.EventConnectionConnected, acct, map[string]any{"account_id": acct}},
			wantEvent{verigate.EventStepCompleted, d.Data.ID, session(d.Data.ID, verigate.SessionProcessing, "stepId", stepD)},
			wantEvent{verigate.EventVerificationCompleted, d.Data.ID, session(d.Data.ID, verigate.SessionCompleted)})

		// A login that waits too long for its code fails; so do its step and,
		// under the "never" policy, its session.
		if err := e.App.Verify.SetReviewPolicy(e.System, "acme", verigate.ReviewNever); err != nil {
			t.Fatal(err)
		}
		g := f.createSession(t, f.test, nil)
		csrfG := f.csrf(t, g)
		stepG := f.startStep(t, g, csrfG, bank)
		e.Do("POST", "/partner/step/connect", map[string]any{"stepId": stepG, "credentials": map[string]string{"username": "otp", "password": "pass"}}, "x-csrf-token", csrfG).Decode(t, &conn)
		work()
		acct = conn.Data.AccountID
		o.expect(t, "waiting", wantEvent{verigate.EventVerificationCreated, g.Data.ID, session(g.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, g.Data.ID, session(g.Data.ID, verigate.SessionProcessing)},
			wantEvent{verigate.EventAssistanceRequired, acct, map[string]any{"account_id": acct, "request_id": nonEmpty,
				"type": "otp", "descriptor": map[string]any{"length": 6, "type": "numeric", "purpose": "login"}}})
		e.Clock.Advance(connect.AssistanceTTL + time.Second)
		work()
		o.expect(t, "code never came",
			wantEvent{verigate.EventAssistanceResolved, acct, map[string]any{"account_id": acct, "request_id": nonEmpty, "status": "expired"}},
			wantEvent{verigate.EventConnectionFailed, acct, map[string]any{"account_id": acct, "reason": nonEmpty}},
			wantEvent{verigate.EventStepFailed, g.Data.ID, session(g.Data.ID, verigate.SessionProcessing, "stepId", stepG, "reason", nonEmpty)},
			wantEvent{verigate.EventVerificationFailed, g.Data.ID, session(g.Data.ID, verigate.SessionFailed)})

		// A wrong password fails the login at once; under "always" the
		// session goes to review, and the reviewer approves it.
		if err := e.App.Verify.SetReviewPolicy(e.System, "acme", verigate.ReviewAlways); err != nil {
			t.Fatal(err)
		}
		h := f.createSession(t, f.test, nil)
		csrfH := f.csrf(t, h)
		stepH := f.startStep(t, h, csrfH, bank)
		e.Do("POST", "/partner/step/connect", map[string]any{"stepId": stepH, "credentials": map[string]string{"username": "good", "password": "nope"}}, "x-csrf-token", csrfH).Decode(t, &conn)
		acct = conn.Data.AccountID
		o.expect(t, "another connector session", wantEvent{verigate.EventVerificationCreated, h.Data.ID, session(h.Data.ID, verigate.SessionPending)},
			wantEvent{verigate.EventVerificationProcessing, h.Data.ID, session(h.Data.ID, verigate.SessionProcessing)})
		work()
		o.expect(t, "login refused",
			wantEvent{verigate.EventConnectionFailed, acct, map[string]any{"account_id": acct, "reason": nonEmpty}},
			wantEvent{verigate.EventStepFailed, h.Data.ID, session(h.Data.ID, verigate.SessionProcessing, "stepId", stepH, "reason", nonEmpty)},
			wantEvent{verigate.EventVerificationReviewing, h.Data.ID, session(h.Data.ID, verigate.SessionReviewing)})
		e.Do("POST", fmt.Sprintf("/partner/reviewer/sessions/%d/approve", h.Data.ID), nil, "x-api-key", f.test)
		o.expect(t, "approved", wantEvent{verigate.EventVerificationCompleted, h.Data.ID,
			session(h.Data.ID, verigate.SessionCompleted, "reviewerId", nonEmpty)})

		// A session nobody finishes expires.
		x := f.createSession(t, f.test, nil)
		o.expect(t, "to expire", wantEvent{verigate.EventVerificationCreated, x.Data.ID, session(x.Data.ID, verigate.SessionPending)})
		e.Clock.Advance(49 * time.Hour)
		if _, err := e.App.Jobs.ExpireDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		o.expect(t, "expired", // c, left PROCESSING above, too
			wantEvent{verigate.EventVerificationExpired, c.Data.ID, session(c.Data.ID, verigate.SessionExpired)},
			wantEvent{verigate.EventVerificationExpired, x.Data.ID, session(x.Data.ID, verigate.SessionExpired)})
	})
}
