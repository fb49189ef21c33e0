package dashboard_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
)

// vfix is a reseller "acme" (institution acme-cu) with live and test API
// keys, and another tenant "rival", for the verification pages.
type vfix struct {
	t                *testing.T
	e                *apptest.Env
	live, test       string // acme's keys
	rival            string // rival's live key
	liveSrc, testSrc int64  // a live Reclaim source; the sandbox one
}

var keyScopes = []string{"verifications:create", "verifications:read", "verifications:update", "verifications:review", "sources:read"}

func newVFix(t *testing.T, e *apptest.Env) *vfix {
	t.Helper()
	f := &vfix{t: t, e: e}
	e.SeedReseller("acme", "acme-cu")
	e.SeedReseller("rival", "rival-cu")
	key := func(org string, mode verigate.Mode) string {
		k, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: org, UserEmail: "svc@" + org + ".test", Scopes: keyScopes, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	f.live, f.test, f.rival = key("acme", verigate.ModeLive), key("acme", verigate.ModeTest), key("rival", verigate.ModeLive)
	srcs, err := e.App.Verify.Sources(e.System)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		if s.SourceName == "Sandbox Reclaim" {
			f.testSrc = s.ID
		} else if s.Kind == verigate.SourceReclaim && !s.TestOnly && f.liveSrc == 0 {
			f.liveSrc = s.ID
		}
	}
	if f.liveSrc == 0 || f.testSrc == 0 {
		t.Fatalf("sources: %d %d", f.liveSrc, f.testSrc)
	}
	return f
}

// ver is a verification made through /v1.
type ver struct {
	ID   int64
	Link string // the candidate link's path and query
	csrf string
}

func (v *ver) path() string { return "/dashboard/verifications/" + strconv.FormatInt(v.ID, 10) }

// create makes a verification with key through POST /v1/verifications.
func (f *vfix) create(key, first, last, email, ref string) *ver {
	f.t.Helper()
	resp := f.e.Do("POST", "/v1/verifications", map[string]any{"data": map[string]any{"firstName": first, "lastName": last,
		"email": email, "externalReferenceId": ref}}, "Authorization", "Api-Key "+key)
	if resp.Status != 201 {
		f.t.Fatalf("create verification: %d %s", resp.Status, resp.Body)
	}
	var body struct {
		Data struct{ ID string }
		Meta struct{ CandidateURL string }
	}
	resp.Decode(f.t, &body)
	id, _ := strconv.ParseInt(body.Data.ID, 10, 64)
	u, err := url.Parse(body.Meta.CandidateURL)
	if err != nil {
		f.t.Fatal(err)
	}
	return &ver{ID: id, Link: u.RequestURI()}
}

// open opens the candidate link as the applicant.
func (f *vfix) open(v *ver) {
	f.t.Helper()
	resp := f.e.Do("GET", v.Link, nil, "Accept", "application/json")
	if resp.Status != 200 {
		f.t.Fatalf("open link: %d %s", resp.Status, resp.Body)
	}
	v.csrf = resp.JSON(f.t)["csrfToken"].(string)
}

// consent agrees to share, as the applicant.
func (f *vfix) consent(v *ver) {
	f.t.Helper()
	p, err := f.e.App.Verify.Applicant(context.Background(), v.csrf)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.e.App.Verify.ConsentTo(verigate.WithPrincipal(context.Background(), p), v.ID); err != nil {
		f.t.Fatal(err)
	}
}

// choose selects source src and initiates its step; it returns the step.
func (f *vfix) choose(v *ver, src int64) int64 {
	f.t.Helper()
	if r := f.e.Do("POST", "/partner/step/select-data-source", map[string]any{"dataSourceIds": []int64{src}, "sessionId": v.ID}, "x-csrf-token", v.csrf); r.Status != 201 {
		f.t.Fatalf("select: %d %s", r.Status, r.Body)
	}
	var steps struct {
		Data struct{ Steps []struct{ ID int64 } }
	}
	f.e.Do("GET", "/partner/steps/session/"+strconv.FormatInt(v.ID, 10), nil, "x-csrf-token", v.csrf).Decode(f.t, &steps)
	if len(steps.Data.Steps) == 0 {
		f.t.Fatal("no step")
	}
	id := steps.Data.Steps[0].ID
	if r := f.e.Do("POST", "/partner/step/initiate", map[string]any{"stepId": id}, "x-csrf-token", v.csrf); r.Status != 201 {
		f.t.Fatalf("initiate: %d %s", r.Status, r.Body)
	}
	return id
}

// toReview takes a live verification to REVIEWING the way an applicant
// does: its only step fails (a proof made for another step), and the
// organization's review policy (on_failure) sends it to review.
func (f *vfix) toReview(v *ver) {
	f.t.Helper()
	f.open(v)
	f.consent(v)
	step := f.choose(v, f.liveSrc)
	other := f.create(f.test, "Sandbox", "Helper", "", "")
	f.open(other)
	otherStep := f.choose(other, f.testSrc)
	proof, err := f.e.App.Verify.SandboxProof(f.e.System, otherStep)
	if err != nil {
		f.t.Fatal(err)
	}
	raw, _ := json.Marshal(proof)
	if r := f.e.Do("POST", "/partner/step/submit", map[string]any{"stepId": step, "proofs": []json.RawMessage{raw}}, "x-csrf-token", v.csrf); r.Status != 400 {
		f.t.Fatalf("submit a foreign proof: %d %s", r.Status, r.Body)
	}
	if s := f.status(v); s != verigate.SessionReviewing {
		f.t.Fatalf("after a failed step: %s", s)
	}
}

// status is a verification's status, as the service has it.
func (f *vfix) status(v *ver) verigate.SessionStatus {
	f.t.Helper()
	sess, err := f.e.App.DB.GetSession(context.Background(), v.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return sess.Status
}

// day is a UTC midnight.
func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
