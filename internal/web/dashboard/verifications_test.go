package dashboard_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

func TestVerificationsList(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newVFix(t, e)
		ada := f.create(f.live, "Ada", "Lovelace", "ada@example.com", "L-1")
		grace := f.create(f.live, "Grace", "Hopper", "grace@example.com", "L-2")
		theirs := f.create(f.rival, "Not", "Ours", "not@rival.test", "L-1")
		b := as(t, e, "acme", "viewer")
		p := b.get("/dashboard/verifications")
		save(t, "verifications", p)
		if p.Status != 200 || !strings.Contains(p.Text(), "Verification "+itoa(ada.ID)) || !strings.Contains(p.Text(), "Verification "+itoa(grace.ID)) ||
			strings.Contains(p.Text(), "Verification "+itoa(theirs.ID)) || !strings.Contains(p.Body, `href="`+ada.path()+`"`) {
			t.Fatalf("list: %d %s", p.Status, p.Text())
		}
		// Search and filters (empty fields, as a form sends them, are none).
		for q, want := range map[string][]*ver{
			"q=lovelace&status=&from=&to=": {ada}, "q=L-2": {grace}, "q=GRACE%40": {grace}, "q=L-1": {ada},
			"status=PENDING": {ada, grace}, "status=completed": {}, "from=2026-11-22&to=2026-11-22": {ada, grace},
			"to=2026-11-21": {}, "q=%25": {}, "q=_": {},
		} {
			p := b.get("/dashboard/verifications?" + q)
			if p.Status != 200 {
				t.Errorf("%s: %d %s", q, p.Status, p.Text())
				continue
			}
			for _, v := range []*ver{ada, grace, theirs} {
				in := strings.Contains(p.Body, `href="`+v.path()+`"`)
				want := contains(want, v)
				if in != want {
					t.Errorf("%s: verification %d listed = %v", q, v.ID, in)
				}
			}
		}
		// Bad filters: the form again with what was wrong, never a 500.
		for q, msg := range map[string]string{
			"status=nope": "Status must be", "from=2026-13-01": "Created from must be a date", "before=abc": "Page",
			"before=-1": "Page", "status=a&status=b": "Status must be given once",
			"from=2026-11-30&to=2026-11-01": "Created to must not be before", "q=" + strings.Repeat("x", 150): "Search",
			"before=99999999999999999999": "Page",
		} {
			p := b.get("/dashboard/verifications?" + q)
			if p.Status != http.StatusBadRequest || !strings.Contains(p.Text(), msg) || !strings.Contains(p.Body, `id="f-q"`) {
				t.Errorf("%s: %d %s", q, p.Status, p.Text())
			}
		}
		// Not text: the surface refuses it before the page runs.
		for _, q := range []string{"q=%00", "q=%ff", "status=%c0%80"} {
			if p := b.get("/dashboard/verifications?" + q); p.Status != http.StatusBadRequest {
				t.Errorf("%s: %d", q, p.Status)
			}
		}
		// Pages of 25, by the service's cursor.
		for range 24 {
			f.create(f.live, "Many", "More", "", "")
		}
		p = b.get("/dashboard/verifications")
		next := regexp.MustCompile(`href="(/dashboard/verifications\?before=\d+)">Older`).FindStringSubmatch(p.Body)
		if next == nil || strings.Contains(p.Body, `href="`+ada.path()+`"`) {
			t.Fatalf("first page: %s", p.Text())
		}
		p = b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		save(t, "verifications-page-2", p)
		if p.Status != 200 || !strings.Contains(p.Body, `href="`+ada.path()+`"`) || strings.Contains(p.Body, "Older verifications") || !strings.Contains(p.Text(), "Newest") {
			t.Fatalf("second page: %d %s", p.Status, p.Text())
		}
		// No verifications.read, no page and no link.
		if p := as(t, e, "acme", "developer").get("/dashboard/verifications"); p.Status != 200 {
			t.Errorf("developer: %d", p.Status) // developers read sessions
		}
	})
}

func contains(list []*ver, v *ver) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestVerificationDetailAndActions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		f := newVFix(t, e)
		v := f.create(f.live, "Ada", "Lovelace", "ada@example.com", "L-1")
		theirs := f.create(f.rival, "Not", "Ours", "", "")
		viewer := as(t, e, "acme", "viewer")
		p := viewer.get(v.path())
		save(t, "verification-viewer", p)
		for _, want := range []string{"Verification " + itoa(v.ID), "Ada Lovelace", "ada@example.com", "L-1", "PENDING", "Timeline",
			"verification.created", "Candidate link", "Audit log", "verification.create", "Webhook deliveries"} {
			if !strings.Contains(p.Text(), want) {
				t.Errorf("detail lacks %q", want)
			}
		}
		if !strings.Contains(p.Body, `class="qr" role="img"`) || !strings.Contains(p.Body, "/partner/verification/verify?token=") {
			t.Error("no QR code of the candidate link")
		}
		// A viewer: no action buttons, and 403 posting them.
		for _, w := range []string{"/cancel", "/link", "Approve", "Reject"} {
			if strings.Contains(p.Body, w) {
				t.Errorf("viewer sees %q", w)
			}
		}
		for _, path := range []string{v.path() + "/cancel", v.path() + "/link", "/dashboard/review/" + itoa(v.ID) + "/approve"} {
			if p := viewer.post(path, url.Values{"confirm": {"yes"}}); p.Status != http.StatusForbidden {
				t.Errorf("viewer POST %s: %d", path, p.Status)
			}
		}
		if f.status(v) != verigate.SessionPending {
			t.Fatal("a viewer changed the verification")
		}
		// Missing, foreign and malformed ids: the same 404 page.
		missing := viewer.get("/dashboard/verifications/987654")
		if missing.Status != 404 {
			t.Fatalf("missing: %d", missing.Status)
		}
		for _, path := range []string{theirs.path(), "/dashboard/verifications/abc", "/dashboard/verifications/-1", "/dashboard/verifications/0",
			"/dashboard/verifications/99999999999999999999", "/dashboard/verifications/1e3"} {
			p := viewer.get(path)
			if p.Status != 404 || p.Text() != missing.Text() {
				t.Errorf("%s: %d %s", path, p.Status, p.Text())
			}
		}

		// An admin rotates the link: the new one is shown, the old one
		// no longer opens.
		admin := as(t, e, "acme", "admin")
		p = admin.get(v.path())
		if !strings.Contains(p.Text(), "Send a new link") || !strings.Contains(p.Text(), "Cancel verification "+itoa(v.ID)) {
			t.Fatalf("admin's detail: %s", p.Text())
		}
		p = admin.post(v.path()+"/link", nil)
		save(t, "verification-new-link", p)
		m := regexp.MustCompile(`id="new-link">https://verigate\.test(/partner/verification/verify\?[^<]+)<`).FindStringSubmatch(p.Body)
		if p.Status != 200 || m == nil {
			t.Fatalf("rotate: %d %s", p.Status, p.Text())
		}
		if r := e.Do("GET", v.Link, nil, "Accept", "application/json"); r.Status == 200 {
			t.Error("the old link still opens")
		}
		if r := e.Do("GET", strings.ReplaceAll(m[1], "&amp;", "&"), nil, "Accept", "application/json"); r.Status != 200 {
			t.Errorf("the new link: %d %s", r.Status, r.Body)
		}
		// Cancel needs the confirmation; then it ends the verification.
		p = admin.post(v.path()+"/cancel", url.Values{"reason": {"duplicate"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(), "Tick the box") || f.status(v) != verigate.SessionPending {
			t.Fatalf("cancel unconfirmed: %d %s", p.Status, p.Text())
		}
		p = admin.post(v.path()+"/cancel", url.Values{"reason": {"nonsense"}, "confirm": {"yes"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text(), "Reason must be") {
			t.Fatalf("cancel with a bad reason: %d %s", p.Status, p.Text())
		}
		p = admin.post(v.path()+"/cancel", url.Values{"reason": {"duplicate"}, "confirm": {"yes"}})
		if p.Status != http.StatusSeeOther || p.Location() != v.path() {
			t.Fatalf("cancel: %d %s", p.Status, p.Text())
		}
		p = admin.follow(p)
		save(t, "verification-cancelled", p)
		if f.status(v) != verigate.SessionCancelled || !strings.Contains(p.Text(), "Verification cancelled") || strings.Contains(p.Text(), "Candidate link") ||
			strings.Contains(p.Body, "/cancel") {
			t.Fatalf("after cancel: %s %s", f.status(v), p.Text())
		}
		if r := e.Do("GET", "/v1/verifications/"+itoa(v.ID), nil, "Authorization", "Api-Key "+f.live); !strings.Contains(string(r.Body), `"cancellationReason":"duplicate"`) {
			t.Errorf("/v1 after cancel: %s", r.Body)
		}
		// Again: already changed. Another tenant's: not found.
		if p := admin.post(v.path()+"/cancel", url.Values{"confirm": {"yes"}}); p.Status != http.StatusConflict {
			t.Errorf("cancel twice: %d", p.Status)
		}
		for _, path := range []string{theirs.path() + "/cancel", theirs.path() + "/link", "/dashboard/verifications/abc/link"} {
			if p := admin.post(path, url.Values{"confirm": {"yes"}}); p.Status != 404 {
				t.Errorf("%s: %d", path, p.Status)
			}
		}
		if f.status(theirs) != verigate.SessionPending {
			t.Error("another tenant's verification changed")
		}
	})
}
