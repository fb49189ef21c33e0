package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

func TestReviewQueue(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newVFix(t, e)
		v := f.create(f.live, "Ada", "Lovelace", "ada@example.com", "L-1")
		w := f.create(f.live, "Grace", "Hopper", "", "")
		pending := f.create(f.live, "Not", "Yet", "", "")
		f.toReview(v)
		f.toReview(w)
		email, password := seedUser(t, e, "acme", "reviewer")
		rev := signIn(t, e, email, password)
		p := rev.get("/dashboard/review")
		save(t, "review-queue", p)
		if p.Status != 200 || !strings.Contains(p.Text(), "2 verifications await review") || !strings.Contains(p.Body, `href="`+v.path()+`"`) ||
			strings.Contains(p.Body, `href="`+pending.path()+`"`) || !strings.Contains(p.Body, `href="/dashboard/review" aria-current="page"`) {
			t.Fatalf("queue: %d %s", p.Status, p.Text())
		}
		p = rev.get(v.path())
		save(t, "review-detail", p)
		if !strings.Contains(p.Text(), "Approve verification") || !strings.Contains(p.Text(), "Reject verification") || !strings.Contains(p.Text(), "REVIEWING") {
			t.Fatalf("detail in review: %s", p.Text())
		}
		// The reviewer has no verifications.update: no cancel or rotate.
		if strings.Contains(p.Body, "/cancel") || strings.Contains(p.Body, "/link\"") {
			t.Error("reviewer sees cancel or rotate")
		}
		// Reject needs a reason; a reason is at most 500 characters. The
		// form comes back with the message and what was entered.
		path := "/dashboard/review/" + itoa(v.ID)
		p = rev.post(path+"/reject", url.Values{"reason": {"  "}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(), "Give a reason to reject") {
			t.Fatalf("reject without a reason: %d %s", p.Status, p.Text())
		}
		long := strings.Repeat("é", 501)
		p = rev.post(path+"/approve", url.Values{"reason": {long}})
		save(t, "review-invalid", p)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(), "at most 500 characters") || !strings.Contains(p.Body, long) {
			t.Fatalf("approve with a long reason: %d %s", p.Status, p.Text())
		}
		if f.status(v) != verigate.SessionReviewing {
			t.Fatal("an invalid review changed the verification")
		}
		// Approve: COMPLETED, and the audit log names the reviewer.
		p = rev.post(path+"/approve", url.Values{"reason": {"Payslip checked by hand"}})
		if p.Status != http.StatusSeeOther || p.Location() != "/dashboard/review" {
			t.Fatalf("approve: %d %s", p.Status, p.Text())
		}
		if p = rev.follow(p); !strings.Contains(p.Text(), "approved") || !strings.Contains(p.Text(), "1 verification awaits review") {
			t.Errorf("queue after approving: %s", p.Text())
		}
		if f.status(v) != verigate.SessionCompleted {
			t.Fatalf("after approve: %s", f.status(v))
		}
		user, err := e.App.DB.GetUserByEmail(context.Background(), email)
		if err != nil {
			t.Fatal(err)
		}
		acme, _ := e.App.Access.Organization(e.System, "acme")
		evs, err := e.App.Access.AuditEvents(e.System, verigate.AuditFilter{OrgID: acme.ID, Action: "verification.approve", TargetID: itoa(v.ID), Limit: 10})
		if err != nil || len(evs) != 1 || evs[0].ActorID != user.ID || evs[0].ActorKind != verigate.PrincipalUser || evs[0].Details["reason"] != "Payslip checked by hand" {
			t.Fatalf("audit: %+v %v (user %s)", evs, err, user.ID)
		}
		// Reject the other, with a reason.
		if p := rev.post("/dashboard/review/"+itoa(w.ID)+"/reject", url.Values{"reason": {"Wrong person"}}); p.Status != http.StatusSeeOther || f.status(w) != verigate.SessionRejected {
			t.Fatalf("reject: %d %s", p.Status, f.status(w))
		}
		// Reviewed already, not in review, another tenant's, no such id.
		theirs := f.create(f.rival, "Not", "Ours", "", "")
		for path, status := range map[string]int{
			"/dashboard/review/" + itoa(v.ID) + "/approve": 409, "/dashboard/review/" + itoa(pending.ID) + "/approve": 409,
			"/dashboard/review/" + itoa(theirs.ID) + "/approve": 404, "/dashboard/review/abc/approve": 404,
			"/dashboard/review/99999999999999999999/reject": 404, "/dashboard/review/-1/approve": 404,
		} {
			if p := rev.post(path, url.Values{"reason": {"x"}}); p.Status != status {
				t.Errorf("%s: %d, want %d", path, p.Status, status)
			}
		}
		if p := rev.get("/dashboard/review?page=abc"); p.Status != http.StatusBadRequest {
			t.Errorf("bad page: %d", p.Status)
		}
		// A developer (no verifications.review): no queue, no link, no forms.
		x := f.create(f.live, "Third", "One", "", "")
		f.toReview(x)
		dev := as(t, e, "acme", "developer")
		home := dev.get("/dashboard/")
		if strings.Contains(home.Body, `href="/dashboard/review"`) || !strings.Contains(home.Body, `href="/dashboard/verifications"`) {
			t.Errorf("developer's navigation: %s", home.Text())
		}
		if p := dev.get("/dashboard/review"); p.Status != http.StatusForbidden {
			t.Errorf("developer's queue: %d", p.Status)
		}
		if p := dev.get(x.path()); p.Status != 200 || strings.Contains(p.Body, "/approve") || strings.Contains(p.Body, "/reject") {
			t.Errorf("developer's detail: %d", p.Status)
		}
		if p := dev.post("/dashboard/review/"+itoa(x.ID)+"/approve", nil); p.Status != http.StatusForbidden || f.status(x) != verigate.SessionReviewing {
			t.Errorf("developer approves: %d", p.Status)
		}
		if p := as(t, e, "acme", "viewer").get("/dashboard/review"); p.Status != http.StatusForbidden {
			t.Errorf("viewer's queue: %d", p.Status)
		}
	})
}
