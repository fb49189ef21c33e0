package partner_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/connect"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestConnectorStep runs a session's Sandbox Bank step through its
// connection: connect, answer the code, the step completes with the data.
func TestConnectorStep(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newFixture(t, e)
		var bank int64
		srcs, _ := e.App.Verify.Sources(e.System)
		for _, s := range srcs {
			if s.SourceName == "Sandbox Bank" {
				bank = s.ID
			}
		}
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
		e.App.Connect.Work(context.Background())
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
		e.App.Connect.Work(context.Background())
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
		e.App.Connect.Work(context.Background())
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
	e := apptest.New(t, storetest.Open(t, sqlstore.SQLite))
	f := newFixture(t, e)
	var bank int64
	srcs, _ := e.App.Verify.Sources(e.System)
	for _, s := range srcs {
		if s.SourceName == "Sandbox Bank" {
			bank = s.ID
		}
	}
	c := f.createSession(t, f.test, nil)
	csrf := f.csrf(t, c)
	step := f.startStep(t, c, csrf, bank)
	st, _ := e.App.DB.GetStep(e.System, step)
	sess, _ := e.App.DB.GetSession(e.System, st.SessionID)
	creds := connect.Credentials{"username": "good", "password": "pass"}
	// A stray connection for the step, which the step never records.
	stray, err := e.App.Connect.CreateForStep(e.System, sess.OrgID, sess.Mode, sess.ID, st.ID, bank, creds)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := e.App.Connect.CreateForStep(e.System, sess.OrgID, sess.Mode, sess.ID, st.ID, bank, creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.App.Verify.StartConnect(e.System, st, sess, conn.ID); err != nil {
		t.Fatal(err)
	}
	// The process dies here, before Activate. Nothing runs on hold...
	if n, _ := e.App.Connect.Work(context.Background()); n != 0 {
		t.Fatalf("worked %d held connections", n)
	}
	// ...and a lease later the recorded one logs in and ends the step; the
	// stray one fails without logging in, and ends nothing.
	e.Clock.Advance(connect.Lease + time.Second)
	if n, _ := e.App.Connect.Work(context.Background()); n != 2 {
		t.Fatalf("worked %d lapsed connections, want 2", n)
	}
	var done map[string]any
	e.Do("GET", fmt.Sprintf("/partner/steps/%d", step), nil, "x-csrf-token", csrf).Decode(t, &done)
	if done["status"] != "COMPLETED" || done["results"].(map[string]any)["accountId"] != conn.ID {
		t.Fatalf("step after the lapse: %v (stray %s)", done, stray.ID)
	}
	if s, _ := e.App.DB.GetConnection(e.System, stray.ID); s.Status != verigate.ConnFailed || !strings.Contains(s.FailureReason, "never recorded") {
		t.Fatalf("stray connection: %s %q", s.Status, s.FailureReason)
	}
}
