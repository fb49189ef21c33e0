package partner_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/connect"
)

// TestConnectorStep runs a session's Sandbox Bank step through its
// connection: connect, answer the code, the step completes with the data.
func TestConnectorStep(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		bank := sourceID(t, e, "Sandbox Bank")
		c := f.createSession(t, f.test, nil)
		csrf := f.csrf(t, c)
		h := []string{"x-csrf-token", csrf}
		step := f.startStep(t, c, csrf, bank)
		wantError(t, e.Do("POST", "/partner/step/otp", map[string]any{"stepId": step, "code": "123456"}, h...), 409, "connect it first")
		// Refused credentials leave the step as it was, to try again.
		long := map[string]string{"username": "otp", "password": strings.Repeat("p", 2000)}
		wantError(t, e.Do("POST", "/partner/step/connect", map[string]any{"stepId": step, "credentials": long}, h...), 400, "credentials")
		var again map[string]any
		e.Do("GET", fmt.Sprintf("/partner/steps/%d", step), nil, h...).Decode(t, &again)
		if again["status"] != "INITIATED" {
			t.Fatalf("step after refused credentials: %v", again["status"])
		}
		r := e.Do("POST", "/partner/step/connect", map[string]any{"stepId": step, "credentials": map[string]string{"username": "otp", "password": "pass"}}, h...)
		if r.Status != 201 {
			t.Fatalf("connect: %d %s", r.Status, r.Body)
		}
		e.App.Worker.Work(context.Background())
		var st struct {
			Status     string
			Connection struct {
				Status            string
				PendingAssistance *struct{ Descriptor struct{ Length int } }
			}
		}
		e.Do("GET", fmt.Sprintf("/partner/steps/%d", step), nil, h...).Decode(t, &st)
		if st.Status != "IN_PROGRESS" || st.Connection.Status != "awaiting_code" || st.Connection.PendingAssistance.Descriptor.Length != 6 {
			t.Fatalf("step waiting for a code: %+v", st)
		}
		if r := e.Do("POST", "/partner/step/otp", map[string]any{"stepId": step, "code": "123456"}, h...); r.Status != 202 {
			t.Fatalf("otp: %d %s", r.Status, r.Body)
		}
		e.App.Worker.Work(context.Background())
		var done map[string]any
		e.Do("GET", fmt.Sprintf("/partner/steps/%d", step), nil, h...).Decode(t, &done)
		if done["status"] != "COMPLETED" || done["results"].(map[string]any)["data"] == nil {
			t.Fatalf("step after the code: %v", done)
		}
		var sess struct{ Data map[string]any }
		e.Do("GET", fmt.Sprintf("/partner/session/%d", c.Data.ID), nil, "x-api-key", f.test).Decode(t, &sess)
		if sess.Data["status"] != "COMPLETED" {
			t.Fatalf("session: %v", sess.Data["status"])
		}
		// A wrong password fails the step, and the session goes to review.
		c2 := f.createSession(t, f.test, nil)
		csrf2 := f.csrf(t, c2)
		step2 := f.startStep(t, c2, csrf2, bank)
		e.Do("POST", "/partner/step/connect", map[string]any{"stepId": step2, "credentials": map[string]string{"username": "good", "password": "nope"}}, "x-csrf-token", csrf2)
		e.App.Worker.Work(context.Background())
		e.Do("GET", fmt.Sprintf("/partner/session/%d", c2.Data.ID), nil, "x-api-key", f.test).Decode(t, &sess)
		if sess.Data["status"] != "REVIEWING" {
			t.Fatalf("session after a failed login: %v", sess.Data["status"])
		}
	})
}

// TestConnectorStepInterrupted: a process that dies between recording the
// connection on its step and starting the login leaves nothing stuck: the
// hold lapses a lease later and the worker carries the step to its end. A
// connection its step never recorded ends no step.
func TestConnectorStepInterrupted(t *testing.T) {
	e := apptest.SQLite(t)
	f := newFixture(t, e)
	c, csrf, step := f.bankStep(t)
	applicant, err := e.App.Verify.Applicant(context.Background(), csrf)
	if err != nil {
		t.Fatal(err)
	}
	ctx := verigate.WithPrincipal(context.Background(), applicant)
	creds := map[string]string{"username": "good", "password": "pass"}
	// held opens a connection for the step and dies while it is on hold,
	// after record ran.
	held := func(record func(id string)) (id string) {
		defer func() { recover() }()
		e.App.Connect.OpenForStep(ctx, c.Data.ID, step, sourceID(t, e, "Sandbox Bank"), creds, func(a string) error {
			id = a
			record(a)
			panic("the process dies here")
		})
		return id
	}
	// A stray connection for the step, which the step never records...
	stray := held(func(string) {})
	// ...and one the step records.
	conn := held(func(id string) {
		st, _ := e.App.DB.GetStep(e.System, step)
		sess, _ := e.App.DB.GetSession(e.System, st.SessionID)
		st.Status, st.Metadata = verigate.StepInProgress, []byte(`{"accountId":"`+id+`"}`)
		if err := e.App.DB.ApplySessionChange(e.System, verigate.SessionChange{Session: sess,
			Steps: []verigate.StepUpdate{{Step: st, FromStatus: verigate.StepInitiated}}}); err != nil {
			t.Fatal(err)
		}
	})
	// Nothing runs on hold...
	if n, _ := e.App.Worker.Work(context.Background()); n != 0 {
		t.Fatalf("worked %d held connections", n)
	}
	// ...and a lease later the recorded one logs in and ends the step; the
	// stray one fails without logging in, and ends nothing.
	e.Clock.Advance(connect.Lease + time.Second)
	if n, _ := e.App.Worker.Work(context.Background()); n != 2 {
		t.Fatalf("worked %d lapsed connections, want 2", n)
	}
	var done map[string]any
	e.Do("GET", fmt.Sprintf("/partner/steps/%d", step), nil, "x-csrf-token", csrf).Decode(t, &done)
	if done["status"] != "COMPLETED" || done["results"].(map[string]any)["accountId"] != conn {
		t.Fatalf("step after the lapse: %v (stray %s)", done, stray)
	}
	if s, _ := e.App.DB.GetConnection(e.System, stray); s.Status != verigate.ConnFailed || !strings.Contains(s.FailureReason, "never recorded") {
		t.Fatalf("stray connection: %s %q", s.Status, s.FailureReason)
	}
}

// connectedStep starts a Sandbox Bank step whose login waits for a code,
// and returns the step, its connection and the applicant's CSRF token.
func connectedStep(t *testing.T, e *apptest.Env, f *fixture) (int64, string, string) {
	t.Helper()
	_, csrf, step := f.bankStep(t)
	r := e.Do("POST", "/partner/step/connect", map[string]any{"stepId": step, "credentials": map[string]string{"username": "otp", "password": "pass"}}, "x-csrf-token", csrf)
	if r.Status != 201 {
		t.Fatalf("connect: %d %s", r.Status, r.Body)
	}
	var out struct{ Data struct{ AccountID string } }
	r.Decode(t, &out)
	if _, err := e.App.Worker.Work(context.Background()); err != nil {
		t.Fatal(err)
	}
	return step, out.Data.AccountID, csrf
}

// spendCodes spends the connection's five codes through /v1 without the
// worker delivering more than the first, so its request stays pending.
func spendCodes(t *testing.T, e *apptest.Env, key, account string) {
	t.Helper()
	for i := range 5 {
		r := e.Do("POST", "/v1/accounts/"+account+"/otp", map[string]string{"code": "000000"}, "x-api-key", key)
		if want := map[bool]int{true: 202, false: 409}[i == 0]; r.Status != want { // later ones: a code is being delivered
			t.Fatalf("code %d: %d %s", i+1, r.Status, r.Body)
		}
	}
}

// TestStepCodeLimit: the one-time-code limit holds whichever path submits
// the code: once /v1 answers 429 for a connection, the applicant's step
// code for the same connection is refused too (it was accepted, 202).
func TestStepCodeLimit(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		v1 := f.key(t, "acme", verigate.ModeTest, nil, "accounts:read", "otp:write", "status:read")
		step, account, csrf := connectedStep(t, e, f)
		spendCodes(t, e, v1, account)
		e.App.Worker.Work(context.Background()) // the wrong code is refused: the request waits again
		if r := e.Do("POST", "/v1/accounts/"+account+"/otp", map[string]string{"code": "123456"}, "x-api-key", v1); r.Status != 429 {
			t.Fatalf("v1 sixth code: %d %s", r.Status, r.Body)
		}
		r := e.Do("POST", "/partner/step/otp", map[string]any{"stepId": step, "code": "123456"}, "x-csrf-token", csrf)
		wantError(t, r, 429, "Too many codes")
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After: %v", r.Header)
		}
		// The limit is per connection and lapses: ten minutes on, a code goes.
		e.Clock.Advance(10*time.Minute + time.Second)
		if r := e.Do("POST", "/partner/step/otp", map[string]any{"stepId": step, "code": "123456"}, "x-csrf-token", csrf); r.Status != 202 {
			t.Fatalf("after the block: %d %s", r.Status, r.Body)
		}
	})
}

// TestStepCodeValidatedFirst: a bad code is 400 whatever the step's state
// (it was 409 "connect it first" before the code was read).
func TestStepCodeValidatedFirst(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		_, csrf, step := f.bankStep(t)
		for _, body := range []map[string]any{{"stepId": step, "code": ""}, {"stepId": step, "code": strings.Repeat("1", 33)}, {"stepId": 0, "code": "1"}} {
			wantError(t, e.Do("POST", "/partner/step/otp", body, "x-csrf-token", csrf), 400, "")
		}
	})
}

// TestStepCodeLimitShared: with Redis configured, the code limit is kept
// there, so replicas share it: codes spent on one count on the other.
func TestStepCodeLimitShared(t *testing.T) {
	url := os.Getenv("VERIGATE_TEST_REDIS_URL")
	if url == "" {
		t.Skip("VERIGATE_TEST_REDIS_URL is not set")
	}
	apptest.EachWithEnv(t, map[string]string{"VERIGATE_REDIS_URL": url}, func(t *testing.T, one *apptest.Env) {
		two := one.Replica()
		f := newFixture(t, one)
		v1 := f.key(t, "acme", verigate.ModeTest, nil, "accounts:read", "otp:write", "status:read")
		step, account, csrf := connectedStep(t, one, f)
		spendCodes(t, one, v1, account)
		one.App.Worker.Work(context.Background())
		r := two.Do("POST", "/partner/step/otp", map[string]any{"stepId": step, "code": "123456"}, "x-csrf-token", csrf)
		wantError(t, r, 429, "Too many codes")
	})
}
