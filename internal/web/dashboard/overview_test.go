package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/delivery"
)

// TestOverviewCharts seeds verifications at every stage of the journey,
// webhook attempts and calls, then checks the aggregates exactly (on
// each engine) and that each chart shows for the roles that may read its
// numbers, and only for them.
func TestOverviewCharts(t *testing.T) {
	apptest.EachWithEnv(t, map[string]string{"VERIGATE_WEBHOOK_ALLOW_HTTP": "true"}, func(t *testing.T, e *apptest.Env) {
		f := newVFix(t, e)
		ctx := context.Background()
		acme, _ := e.App.Access.Organization(e.System, "acme")
		cu, _ := e.App.Access.Organization(e.System, "acme-cu")
		rivalCU, _ := e.App.Access.Organization(e.System, "rival-cu")

		// Two endpoints for acme's verification.created: one answers 204,
		// the other 500.
		ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
		defer ok.Close()
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
		defer bad.Close()
		for _, u := range []string{ok.URL, bad.URL} {
			if _, err := e.App.Webhooks.Create(e.System, delivery.EndpointInput{OrgID: acme.ID, URL: u + "/hooks",
				EventTypes: []verigate.EventType{verigate.EventVerificationCreated}}); err != nil {
				t.Fatal(err)
			}
		}

		d0 := day(e.Clock.Now())
		s := make([]*ver, 9)
		for i := 1; i <= 7; i++ {
			s[i] = f.create(f.live, "Ada", "Lovelace", "", "")
		}
		f.open(s[2])
		f.open(s[3])
		f.consent(s[3])
		f.open(s[4])
		f.consent(s[4])
		f.choose(s[4], f.liveSrc)
		f.toReview(s[5])
		f.toReview(s[6])
		revEmail, revPassword := seedUser(t, e, "acme", "reviewer")
		reviewer := signIn(t, e, revEmail, revPassword)
		reviewer.get(s[6].path())
		if p := reviewer.post("/dashboard/review/"+itoa(s[6].ID)+"/approve", nil); p.Status != http.StatusSeeOther {
			t.Fatalf("approve: %d %s", p.Status, p.Text())
		}
		if r := e.Do("POST", "/v1/verifications/"+itoa(s[7].ID)+"/cancel", map[string]any{}, "Authorization", "Api-Key "+f.live); r.Status != 200 {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		f.create(f.rival, "Not", "Ours", "", "") // another tenant's
		e.Clock.Advance(48 * time.Hour)
		d2 := day(e.Clock.Now())
		s[8] = f.create(f.live, "Grace", "Hopper", "", "")
		// Calls: two waiting at acme-cu, one at rival's.
		for i, inst := range []*verigate.Organization{cu, cu, rivalCU} {
			if _, err := e.App.Calls.Simulate(e.System, inst, "+1555010000"+itoa(int64(i)), "Caller"); err != nil {
				t.Fatal(err)
			}
		}
		// One round of delivery: the good endpoint takes all 8 messages;
		// the bad one fails its first and holds the rest back.
		for {
			n, err := e.App.Deliveries.Work(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}

		// The aggregates, exactly, for a viewer of acme (live).
		p := &verigate.Principal{Kind: verigate.PrincipalUser, ID: "u", UserID: "u", OrgID: acme.ID, Orgs: []string{acme.ID, cu.ID},
			Mode: verigate.ModeLive, Permissions: verigate.RolePermissions(verigate.RoleViewer)}
		pctx := verigate.WithPrincipal(ctx, p)
		st, err := e.App.Verify.Stats(pctx, d2.AddDate(0, 0, -13), d2.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		dc := func(d time.Time, s verigate.SessionStatus, n int) verigate.DayStatusCount {
			return verigate.DayStatusCount{Day: d, Status: s, Count: n}
		}
		wantDays := []verigate.DayStatusCount{dc(d0, verigate.SessionCancelled, 1), dc(d0, verigate.SessionCompleted, 1),
			dc(d0, verigate.SessionPending, 3), dc(d0, verigate.SessionProcessing, 1), dc(d0, verigate.SessionReviewing, 1),
			dc(d2, verigate.SessionPending, 1)}
		if !reflect.DeepEqual(st.PerDay, wantDays) {
			t.Errorf("per day:\n got %+v\nwant %+v", st.PerDay, wantDays)
		}
		wantFunnel := verigate.FunnelCounts{Created: 8, Opened: 5, Consented: 4, SourceChosen: 3, Submitted: 2, Completed: 1}
		if st.Funnel != wantFunnel {
			t.Errorf("funnel %+v, want %+v", st.Funnel, wantFunnel)
		}
		// A period without d0 counts only s8.
		if st, _ := e.App.Verify.Stats(pctx, d2, d2.AddDate(0, 0, 1)); st.Funnel != (verigate.FunnelCounts{Created: 1}) {
			t.Errorf("funnel of d2: %+v", st.Funnel)
		}
		ws, err := e.App.Webhooks.Stats(pctx, e.Clock.Now().Add(-7*24*time.Hour), e.Clock.Now().Add(time.Millisecond))
		if err != nil || ws.Attempts != 9 || ws.Succeeded != 8 {
			t.Errorf("webhook stats %+v, %v", ws, err)
		}
		queue, err := e.App.Calls.QueueSizes(pctx)
		if err != nil || len(queue) != 1 || queue[0].InstitutionID != cu.ID || queue[0].Queued != 2 || queue[0].Assigned != 0 {
			t.Errorf("queue %+v, %v", queue, err)
		}
		// Without the permission, no numbers.
		noRead := *p
		noRead.Permissions = []verigate.Permission{"calls.read"}
		if _, err := e.App.Verify.Stats(verigate.WithPrincipal(ctx, &noRead), d0, d2); verigate.ErrorCode(err) != verigate.EFORBIDDEN {
			t.Errorf("stats without verifications.read: %v", err)
		}
		if _, err := e.App.Webhooks.Stats(verigate.WithPrincipal(ctx, &noRead), d0, d2); verigate.ErrorCode(err) != verigate.EFORBIDDEN {
			t.Errorf("webhook stats without webhooks.read: %v", err)
		}

		// The page: a viewer sees every chart, with these numbers.
		viewer := as(t, e, "acme", "viewer")
		page := viewer.get("/dashboard/")
		save(t, "overview-viewer", page)
		text := page.Text()
		row := func(d time.Time, cells string) string { return d.Format("Mon 2 Jan") + " " + cells }
		for _, want := range []string{"Verifications per day", "8 in all",
			row(d0, "3 1 1 1 1 7"), row(d2, "1 0 0 0 0 1"), // PENDING PROCESSING COMPLETED REVIEWING CANCELLED Total
			"Created 8 100%", "Link opened 5 63%", "Consented 4 50%", "Source chosen 3 38%", "Submitted 2 25%", "Completed 1 13%",
			"Attempts 9 Succeeded 8 (89%) Failed 1", "Institution acme-cu 2 0", "Calls waiting now: 2."} {
			if !strings.Contains(text, want) {
				t.Errorf("viewer's overview lacks %q:\n%s", want, text)
			}
		}
		for _, want := range []string{`role="img" aria-label="Verifications created per day`, `aria-label="Journey funnel`,
			`aria-label="Webhook delivery in the last 7 days: 8 of 9 attempts succeeded (89%)`, `aria-label="Calls waiting now: 2 in all`} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("overview lacks %q", want)
			}
		}
		if strings.Contains(page.Body, "style=") {
			t.Error("inline style attribute")
		}
		// Each role sees the charts of the numbers it may read, only.
		for _, c := range []struct {
			role       string
			shown, not []string
		}{
			{"reviewer", []string{"Verifications per day", "Journey funnel"}, []string{"Webhook delivery", "Call queue", "Attempts"}},
			{"developer", []string{"Verifications per day", "Webhook delivery", "Attempts 9"}, []string{"Call queue"}},
			{"operator", []string{"Verifications per day", "Call queue", "Institution acme-cu 2 0"}, []string{"Webhook delivery", "Attempts"}},
		} {
			var b *browser
			if c.role == "reviewer" {
				b = signIn(t, e, revEmail, revPassword) // the first session has been idle for days
			} else {
				b = as(t, e, "acme", c.role)
			}
			p := b.get("/dashboard/")
			save(t, "overview-"+c.role, p)
			for _, w := range c.shown {
				if !strings.Contains(p.Text(), w) {
					t.Errorf("%s: overview lacks %q: %d %s", c.role, w, p.Status, p.Text())
				}
			}
			for _, w := range c.not {
				if strings.Contains(p.Text(), w) {
					t.Errorf("%s: overview shows %q", c.role, w)
				}
			}
		}
		// Another tenant's viewer sees none of acme's numbers.
		rv := as(t, e, "rival", "viewer")
		if p := rv.get("/dashboard/"); !strings.Contains(p.Text(), "1 in all") || !strings.Contains(p.Text(), "Institution rival-cu 1 0") ||
			!strings.Contains(p.Text(), "Attempts 0") {
			t.Errorf("rival's overview: %s", p.Text())
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
