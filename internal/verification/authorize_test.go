package verification_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/access"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/verification"
)

// partnerCtx is a context acting as a test-mode API key of org with scopes.
func partnerCtx(t *testing.T, e *apptest.Env, org string, scopes ...string) context.Context {
	t.Helper()
	key, _, err := e.App.Access.CreateAPIKey(e.System, access.APIKeyInput{OrgKey: org, UserEmail: "svc@" + org + ".test",
		Scopes: scopes, Mode: verigate.ModeTest})
	if err != nil {
		t.Fatal(err)
	}
	_, p, err := e.App.Access.VerifyAPIKey(e.System, key)
	if err != nil {
		t.Fatal(err)
	}
	return verigate.WithPrincipal(context.Background(), p)
}

var partnerScopes = []string{"verifications:create", "verifications:read", "verifications:update", "verifications:review", "sources:read"}

// TestNeutralFieldNames: the service names a bad field as the domain does
// (expiryDate, allowedSources[0]); prefixing it (params.) is a surface's.
func TestNeutralFieldNames(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		ctx := partnerCtx(t, e, "acme", partnerScopes...)
		future := e.Clock.Now().Add(time.Hour)
		other, nine := int64(999999), int64(99)
		for _, tc := range []struct {
			field string
			in    verification.SessionInput
		}{
			{"expiryDate", verification.SessionInput{}},
			{"expiryDate", verification.SessionInput{ExpiryDate: e.Clock.Now().Add(-time.Hour)}},
			{"expiryDate", verification.SessionInput{ExpiryDate: e.Clock.Now().Add(400 * 24 * time.Hour)}},
			{"metadata", verification.SessionInput{ExpiryDate: future, Metadata: []byte(`[1]`)}},
			{"applicantEmail", verification.SessionInput{ExpiryDate: future, ApplicantEmail: "nope"}},
			{"redirectUrl", verification.SessionInput{ExpiryDate: future, RedirectURL: "ftp://example.com"}},
			{"allowedSources[0]", verification.SessionInput{ExpiryDate: future, AllowedSources: []verification.SourceRef{{ID: 424242}}}},
			{"selectedPlatform", verification.SessionInput{ExpiryDate: future, SelectedPlatform: &other}},
			{"verificationTypeId", verification.SessionInput{ExpiryDate: future, VerificationTypeID: &nine}},
			{"institutionKey", verification.SessionInput{ExpiryDate: future, InstitutionKey: "nowhere"}},
		} {
			_, _, err := e.App.Verify.CreateSession(ctx, tc.in)
			var ve *verigate.Error
			if !errors.As(err, &ve) || ve.Code != verigate.EINVALID || len(ve.Fields) != 1 || ve.Fields[tc.field] == "" {
				t.Fatalf("%s: %#v", tc.field, err)
			}
			if !strings.HasPrefix(ve.Message, tc.field+": ") || strings.Contains(ve.Message, "params.") {
				t.Fatalf("%s: message %q", tc.field, ve.Message)
			}
			// The partner surface's dialect, from the same error.
			if m := verigate.ErrorMessage(verigate.Nest("params.", err)); !strings.HasPrefix(m, "params."+tc.field+": ") {
				t.Fatalf("%s nested: %q", tc.field, m)
			}
		}
	})
}

// TestApplicantTokenErrors: the applicant token's errors are sentinels a
// surface can name in its own words; the service's own say no CSRF.
func TestApplicantTokenErrors(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		ctx := partnerCtx(t, e, "acme", partnerScopes...)
		v := e.App.Verify
		sess, link, err := v.CreateSession(ctx, verification.SessionInput{ExpiryDate: e.Clock.Now().Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		token, _, _, err := v.OpenLink(context.Background(), link, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			token string
			want  error
		}{{"", verification.ErrApplicantTokenMissing}, {"nope", verification.ErrApplicantTokenInvalid}, {link, verification.ErrApplicantTokenInvalid}} {
			if _, err := v.Applicant(context.Background(), tc.token); !errors.Is(err, tc.want) {
				t.Fatalf("Applicant(%q) = %v, want %v", tc.token, err, tc.want)
			}
		}
		e.Clock.Advance(verification.ApplicantTokenTTL + time.Second)
		if _, err := v.Applicant(context.Background(), token); !errors.Is(err, verification.ErrApplicantTokenExpired) {
			t.Fatalf("expired: %v", err)
		}
		for _, err := range []error{verification.ErrApplicantTokenMissing, verification.ErrApplicantTokenInvalid,
			verification.ErrApplicantTokenExpired, verigate.ErrOutsideSession} {
			if m := verigate.ErrorMessage(err); strings.Contains(strings.ToLower(m), "csrf") || strings.Contains(m, "API key") {
				t.Errorf("dialect in a service message: %q", m)
			}
		}
	})
}

// TestOneRule: every check of the engine is Principal.Authorize's rule.
// A foreign object answers exactly as a missing one; reach comes before
// permission; an applicant reaches only what it works on in its own
// session — never a session's link, results or review, even its own.
func TestOneRule(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		e.SeedReseller("acme", "acme-cu")
		e.SeedReseller("bravo", "bravo-cu")
		v := e.App.Verify
		acme := partnerCtx(t, e, "acme", partnerScopes...)
		bravo := partnerCtx(t, e, "bravo", partnerScopes...)
		reader := partnerCtx(t, e, "acme", "verifications:read")
		newSession := func() (*verigate.Session, context.Context) {
			sess, link, err := v.CreateSession(acme, verification.SessionInput{ExpiryDate: e.Clock.Now().Add(48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			token, _, _, err := v.OpenLink(context.Background(), link, sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			ap, err := v.Applicant(context.Background(), token)
			if err != nil {
				t.Fatal(err)
			}
			return sess, verigate.WithPrincipal(context.Background(), ap)
		}
		sess, applicant := newSession()
		other, otherApplicant := newSession()
		steps, err := v.SelectSources(applicant, sess.ID, []int64{1})
		if err != nil {
			t.Fatal(err)
		}
		step := steps[0].ID
		same := func(what string, foreign, missing error, code string) {
			t.Helper()
			if verigate.ErrorCode(foreign) != code || verigate.ErrorCode(missing) != code ||
				verigate.ErrorMessage(foreign) != verigate.ErrorMessage(missing) {
				t.Errorf("%s: foreign %v, missing %v (want both %s, alike)", what, foreign, missing, code)
			}
		}
		// Another tenant's key: a foreign object is a missing one.
		_, _, errF := v.Session(bravo, sess.ID)
		_, _, errM := v.Session(bravo, 999999)
		same("session", errF, errM, verigate.ENOTFOUND)
		_, _, errF = v.RotateLink(bravo, sess.ID)
		_, _, errM = v.RotateLink(bravo, 999999)
		same("rotate link", errF, errM, verigate.ENOTFOUND)
		_, errF = v.Review(bravo, sess.ID, true, "")
		_, errM = v.Review(bravo, 999999, true, "")
		same("review", errF, errM, verigate.ENOTFOUND)
		_, _, errF = v.Step(bravo, step)
		_, _, errM = v.Step(bravo, 999999)
		same("step", errF, errM, verigate.ENOTFOUND)
		// Reach before permission: the reader lacks verifications.update,
		// which its own session says and a foreign one does not.
		if _, _, err := v.RotateLink(reader, sess.ID); verigate.MissingPermission(err) != "verifications.update" {
			t.Errorf("reader renews a link: %v", err)
		}
		_, _, errF = v.RotateLink(partnerCtx(t, e, "bravo", "verifications:read"), sess.ID)
		_, _, errM = v.RotateLink(partnerCtx(t, e, "bravo", "verifications:review"), 999999)
		same("rotate link without the permission", errF, errM, verigate.ENOTFOUND)
		// An organization by key: another tenant's is a missing one.
		bravoOrg, _ := e.App.Access.Organization(e.System, "bravo")
		admin := verigate.WithPrincipal(context.Background(), &verigate.Principal{Kind: verigate.PrincipalUser, ID: "u", UserID: "u",
			OrgID: bravoOrg.ID, Orgs: []string{bravoOrg.ID}, Mode: verigate.ModeLive,
			Permissions: []verigate.Permission{"sources.manage", "organizations.update"}})
		same("source setting", v.SetSourceEnabled(admin, "acme", "PayPal", false), v.SetSourceEnabled(admin, "nope", "PayPal", false), verigate.ENOTFOUND)
		same("review policy", v.SetReviewPolicy(admin, "acme", verigate.ReviewAlways), v.SetReviewPolicy(admin, "nope", verigate.ReviewAlways), verigate.ENOTFOUND)
		if err := v.SetSourceEnabled(admin, "bravo", "PayPal", false); err != nil {
			t.Errorf("own organization: %v", err)
		}

		// The applicant: its own session's steps and sources...
		if _, _, err := v.Step(applicant, step); err != nil {
			t.Fatalf("own step: %v", err)
		}
		if _, err := v.Steps(applicant, sess.ID); err != nil {
			t.Fatalf("own steps: %v", err)
		}
		// ...not another's, which answers as a missing one does...
		for what, err := range map[string]error{
			"foreign step":      second(v.Step(otherApplicant, step)),
			"missing step":      second(v.Step(otherApplicant, 999999)),
			"foreign steps":     first(v.Steps(applicant, other.ID)),
			"missing session":   first(v.Steps(applicant, 999999)),
			"foreign sources":   first(v.SelectSources(otherApplicant, sess.ID, []int64{1})),
			"foreign proof":     first(v.SandboxProof(otherApplicant, step)),
			"the whole catalog": first(v.Sources(applicant)),
			"import":            first(v.ImportSources(applicant, []byte(`{"sources":[]}`))),
			"create":            second(v.CreateSession(applicant, verification.SessionInput{ExpiryDate: e.Clock.Now().Add(time.Hour)})),
			"list":              second(v.ReviewerSessions(applicant, verification.ReviewerQuery{SortBy: "createdAt", SortOrder: "asc", Limit: 10})),
			// ...and never its own session as a whole.
			"own session":  second(v.Session(applicant, sess.ID)),
			"own link":     second(v.RotateLink(applicant, sess.ID)),
			"own approval": first(v.Review(applicant, sess.ID, true, "")),
		} {
			if !errors.Is(err, verigate.ErrOutsideSession) {
				t.Errorf("applicant, %s: %v", what, err)
			}
		}
		if s, _, err := v.Session(acme, sess.ID); err != nil || s.Status != verigate.SessionProcessing {
			t.Fatalf("the applicant changed its session: %v %v", s, err)
		}
	})
}

func first[T any](_ T, err error) error          { return err }
func second[T, U any](_ T, _ U, err error) error { return err }
