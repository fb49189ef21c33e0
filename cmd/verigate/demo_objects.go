package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app"
	"github.com/verigate/verigate/internal/connect"
	"github.com/verigate/verigate/internal/reclaim"
	"github.com/verigate/verigate/internal/verification"
)

// refreshDemo makes sure the objects the printed lines act on exist and
// are in the state the lines need: it keeps those that are and replaces
// the others, so starting the demo again adds only what was used up.
func refreshDemo(ctx context.Context, a *app.App, st *demoState) error {
	var err error
	if st.Calls, err = demoCalls(ctx, a, st.Calls); err != nil {
		return fmt.Errorf("queue the demo calls: %w", err)
	}
	_, partner, err := a.Access.VerifyAPIKey(ctx, st.demoKey(demoScopes))
	if err != nil {
		return err
	}
	pctx := verigate.WithPrincipal(ctx, partner)
	sandbox, err := sourceID(ctx, a, "Sandbox Reclaim")
	if err != nil {
		return err
	}
	if st.Verification, err = demoSession(pctx, a, st.Verification, sandbox); err != nil {
		return fmt.Errorf("create the demo session: %w", err)
	}
	if st.ReviewSessionID, err = demoReviewSession(pctx, a, st.ReviewSessionID, sandbox); err != nil {
		return fmt.Errorf("create the session waiting for a reviewer: %w", err)
	}
	if st.DashboardReviewID, err = demoReviewSession(pctx, a, st.DashboardReviewID, sandbox); err != nil {
		return fmt.Errorf("create the session waiting for the dashboard's reviewer: %w", err)
	}
	if st.Connections, err = demoConnections(ctx, a, st); err != nil {
		return fmt.Errorf("open the demo connection: %w", err)
	}
	if err := demoHookKey(ctx, a, st); err != nil {
		return err
	}
	return demoVerifyKey(ctx, a, st)
}

// demoHookKey makes the webhook key (test mode, hookScopes) unless the
// state holds it: demos set up before webhooks lack it.
func demoHookKey(ctx context.Context, a *app.App, st *demoState) error {
	if st.demoKey(hookScopes) != "" {
		return nil
	}
	key, k, err := a.Access.CreateAPIKey(ctx, access.APIKeyInput{OrgKey: demoResellerKey, UserEmail: st.Reseller.ServiceAccount.Email,
		Name: "demo webhooks", Scopes: hookScopes, Mode: verigate.ModeTest})
	if err != nil {
		return fmt.Errorf("create the webhook key: %w", err)
	}
	st.APIKeys = append(st.APIKeys, demoAPIKey{Key: key, Scopes: k.Scopes, Organization: demoResellerKey, Mode: string(verigate.ModeTest)})
	return nil
}

func sourceID(ctx context.Context, a *app.App, name string) (int64, error) {
	sources, err := a.Verify.Sources(ctx)
	if err != nil {
		return 0, err
	}
	for _, src := range sources {
		if src.SourceName == name {
			return src.ID, nil
		}
	}
	return 0, fmt.Errorf("the catalog lacks %s", name)
}

// demoCallers are the sample calls: two in demo-cu (one to enroll, one to
// reject), one in acme-cu (Confirm's worked example lists it), and one in
// demo-cu that no printed line touches, for the dashboard's operator.
var demoCallers = []struct{ inst, phone, name string }{
	{"demo-cu", "+15550102000", "Jane Roe"},
	{"demo-cu", "+15550103000", "John Poe"},
	{"acme-cu", "+15550104000", "Alex Acme"},
	{"demo-cu", "+15550105000", "Pat Doe"},
}

// demoCalls returns a queued call for each sample caller: the one from
// the last start while it is still queued, else a new one.
func demoCalls(ctx context.Context, a *app.App, last []demoCall) ([]demoCall, error) {
	var out []demoCall
	for i, c := range demoCallers {
		inst, err := a.Access.Organization(ctx, c.inst)
		if err != nil {
			return nil, err
		}
		if i < len(last) && last[i].Institution == c.inst {
			call, err := a.Calls.Details(ctx, inst, last[i].VoiceID)
			if err == nil && call.Status == verigate.CallQueued {
				out = append(out, last[i])
				continue
			} else if err != nil && verigate.ErrorCode(err) != verigate.ENOTFOUND {
				return nil, err
			}
		}
		call, err := a.Calls.Simulate(ctx, inst, c.phone, c.name)
		if err != nil {
			return nil, err
		}
		out = append(out, demoCall{VoiceID: call.VoiceID, Institution: c.inst, PhoneNumber: call.PhoneNumber, CallerName: call.CallerName})
	}
	return out, nil
}

// sessionIn returns whether the partner's session id is in one of the
// statuses and has a day left.
func sessionIn(ctx context.Context, a *app.App, id int64, statuses ...verigate.SessionStatus) (bool, error) {
	if id == 0 {
		return false, nil
	}
	sess, _, err := a.Verify.Session(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return slices.Contains(statuses, sess.Status) && a.Verify.Now().Add(24*time.Hour).Before(sess.ExpiryDate), nil
}

// newDemoSession creates a test-mode session for the partner in ctx.
func newDemoSession(ctx context.Context, a *app.App, applicantID, first, last string) (*verigate.Session, string, error) {
	return a.Verify.CreateSession(ctx, verification.SessionInput{
		ExpiryDate: a.Verify.Now().Add(7 * 24 * time.Hour), ApplicantID: applicantID,
		ApplicantFirstName: first, ApplicantLastName: last, ApplicantEmail: applicantID + "@example.com",
		Instructions: "Prove your income with the sandbox provider."})
}

// demoSession returns the applicant-link session: the last one while
// nobody has started it, else a new one.
func demoSession(ctx context.Context, a *app.App, last *demoVerification, sandbox int64) (*demoVerification, error) {
	if last != nil {
		if ok, err := sessionIn(ctx, a, last.SessionID, verigate.SessionPending); err != nil || ok {
			return last, err
		}
	}
	sess, token, err := newDemoSession(ctx, a, "demo-applicant", "John", "Doe")
	if err != nil {
		return nil, err
	}
	manual, deep := a.Verify.Links(sess, token)
	return &demoVerification{SessionID: sess.ID, ApplicantLink: manual, DeepLink: deep, LinkToken: token,
		SandboxSource: sandbox, ReviewPolicyOf: demoResellerKey}, nil
}

// demoReviewSession returns a session waiting for a reviewer: the last one
// while it still waits, else a new one taken through the applicant's steps
// with a sandbox proof (demo-reseller's review policy is "always").
func demoReviewSession(ctx context.Context, a *app.App, last, sandbox int64) (int64, error) {
	if ok, err := sessionIn(ctx, a, last, verigate.SessionReviewing); err != nil || ok {
		return last, err
	}
	sess, token, err := newDemoSession(ctx, a, "demo-reviewed", "Rita", "Review")
	if err != nil {
		return 0, err
	}
	csrf, _, _, err := a.Verify.OpenLink(ctx, token, sess.ID)
	if err != nil {
		return 0, err
	}
	applicant, err := a.Verify.Applicant(ctx, csrf)
	if err != nil {
		return 0, err
	}
	actx := verigate.WithPrincipal(ctx, applicant)
	steps, err := a.Verify.SelectSources(actx, sess.ID, []int64{sandbox})
	if err != nil {
		return 0, err
	}
	if _, _, err := a.Verify.InitiateStep(actx, steps[0].ID); err != nil {
		return 0, err
	}
	proof, err := a.Verify.SandboxProof(actx, steps[0].ID)
	if err != nil {
		return 0, err
	}
	_, done, err := a.Verify.SubmitProofs(actx, steps[0].ID, []reclaim.Proof{*proof})
	if err != nil {
		return 0, err
	}
	if done.Status != verigate.SessionReviewing {
		return 0, fmt.Errorf("session %d is %s, not %s", done.ID, done.Status, verigate.SessionReviewing)
	}
	return done.ID, nil
}

// demoConnections returns a Sandbox Bank login waiting for a code: the
// last one while it still waits, else a new one.
func demoConnections(ctx context.Context, a *app.App, st *demoState) ([]demoConnection, error) {
	_, p, err := a.Access.VerifyAPIKey(ctx, st.demoKey(machineScopes))
	if err != nil {
		return nil, err
	}
	mctx := verigate.WithPrincipal(ctx, p)
	if len(st.Connections) == 1 {
		c, err := a.Connect.Get(mctx, st.Connections[0].AccountID)
		if err == nil && c.Status == verigate.ConnAwaiting {
			return st.Connections, nil
		} else if err != nil && verigate.ErrorCode(err) != verigate.ENOTFOUND {
			return nil, err
		}
	}
	bank, err := sourceID(ctx, a, "Sandbox Bank")
	if err != nil {
		return nil, err
	}
	creds := map[string]string{"username": "otp", "password": "pass"}
	c, err := a.Connect.Create(mctx, connect.CreateInput{SourceID: bank, Credentials: creds, Label: "demo login"})
	if err != nil {
		return nil, err
	}
	if _, err := a.Worker.Work(ctx); err != nil { // the login now waits for its code
		return nil, err
	}
	return []demoConnection{{AccountID: c.ID, Source: "Sandbox Bank", SourceID: bank, Credentials: creds}}, nil
}
