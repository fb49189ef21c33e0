package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
	"github.com/verigate/verigate/internal/delivery"
)

var (
	endpointLink = regexp.MustCompile(`/dashboard/webhooks/([0-9a-f-]{36})`)
	messageLink  = regexp.MustCompile(`/dashboard/webhooks/[0-9a-f-]{36}/messages/([0-9a-f-]{36})`)
)

// seedOrg returns organization key, created as a reseller when missing.
func seedOrg(t *testing.T, e *apptest.Env, key string) *verigate.Organization {
	t.Helper()
	if _, err := e.App.Access.Organization(e.System, key); err != nil {
		e.SeedReseller(key, key+"-cu")
	}
	o, err := e.App.Access.Organization(e.System, key)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// deliveryInput is a live endpoint of org at u.
func deliveryInput(org *verigate.Organization, u string) delivery.EndpointInput {
	return delivery.EndpointInput{OrgID: org.ID, URL: u}
}

// testCtx acts as the system in test mode.
func testCtx(e *apptest.Env) context.Context {
	p := *verigate.System
	p.Mode = verigate.ModeTest
	return verigate.WithPrincipal(context.Background(), &p)
}

func TestWebhooksTestFireAndLog(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		var hits atomic.Int32
		rv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte("thanks"))
		}))
		defer rv.Close()
		b := as(t, e, "acme", "admin")
		if p := b.get("/dashboard/webhooks"); p.Status != 200 || !strings.Contains(p.Text(), "No live webhook endpoints") {
			t.Fatalf("list: %d %s", p.Status, p.Text())
		}
		b.get("/dashboard/webhooks/new")
		// Live mode wants https: refused, the form kept.
		p := b.post("/dashboard/webhooks", url.Values{"mode": {"live"}, "url": {rv.URL + "/hooks"}, "description": {"Orders"},
			"event_types": {"verification.completed"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `value="`+rv.URL+`/hooks"`) ||
			!strings.Contains(p.Body, `value="Orders"`) || !strings.Contains(p.Body, `value="verification.completed" checked`) {
			t.Fatalf("live http: %d %s", p.Status, p.Text())
		}
		for _, bad := range []url.Values{{"mode": {"test"}, "url": {"not a url"}}, {"mode": {"test"}, "url": {rv.URL}, "event_types": {"nope.nope"}}} {
			if p := b.post("/dashboard/webhooks", bad); p.Status != http.StatusUnprocessableEntity {
				t.Errorf("%v: %d %s", bad, p.Status, p.Text())
			}
		}
		if p := b.post("/dashboard/webhooks", url.Values{"mode": {"sideways"}, "url": {rv.URL}}); p.Status != 400 {
			t.Errorf("bad mode: %d", p.Status)
		}
		// Test mode takes the local receiver; the secret is shown once.
		p = b.post("/dashboard/webhooks", url.Values{"mode": {"test"}, "url": {rv.URL + "/hooks"}, "description": {"Orders"}})
		if p.Status != http.StatusCreated || !strings.Contains(p.Text(), "whsec_") {
			t.Fatalf("create: %d %s", p.Status, p.Text())
		}
		id := endpointLink.FindStringSubmatch(p.Body)[1]
		ep, err := e.App.Webhooks.Get(testCtx(e), id)
		if err != nil || ep.Mode != verigate.ModeTest || ep.Description != "Orders" {
			t.Fatalf("created: %+v %v", ep, err)
		}
		detail := b.get("/dashboard/webhooks/" + id + "?mode=test")
		if detail.Status != 200 || strings.Contains(detail.Text(), "whsec_") || !strings.Contains(detail.Text(), "No messages yet") {
			t.Fatalf("detail: %d %s", detail.Status, detail.Text())
		}
		if p := b.get("/dashboard/webhooks?mode=test"); !strings.Contains(p.Text(), rv.URL+"/hooks") || !strings.Contains(p.Text(), "Enabled") {
			t.Errorf("test list: %s", p.Text())
		}
		// Test-fire, deliver, and read the log.
		p = b.post("/dashboard/webhooks/"+id+"/test", url.Values{"mode": {"test"}, "event_type": {"verification.completed"}})
		if p.Status != http.StatusSeeOther || p.Location() != "/dashboard/webhooks/"+id+"?mode=test" {
			t.Fatalf("test-fire: %d %s", p.Status, p.Text())
		}
		if n, err := e.App.Deliveries.Work(context.Background()); err != nil || n != 1 || hits.Load() != 1 {
			t.Fatalf("work: %d %v, receiver saw %d", n, err, hits.Load())
		}
		detail = b.follow(p)
		if txt := detail.Text(); !strings.Contains(txt, "verification.completed") || !strings.Contains(txt, "delivered") ||
			!strings.Contains(txt, "HTTP 202") || !strings.Contains(txt, "queued") {
			t.Fatalf("log: %s", txt)
		}
		msg := messageLink.FindStringSubmatch(detail.Body)[1]
		mp := b.get("/dashboard/webhooks/" + id + "/messages/" + msg + "?mode=test")
		if mp.Status != 200 || !strings.Contains(mp.Text(), "HTTP 202") || !strings.Contains(mp.Text(), "thanks") {
			t.Fatalf("message: %d %s", mp.Status, mp.Text())
		}
		p = b.post("/dashboard/webhooks/"+id+"/messages/"+msg+"/redeliver", url.Values{"mode": {"test"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("redeliver: %d %s", p.Status, p.Text())
		}
		e.App.Deliveries.Work(context.Background())
		if mp := b.follow(p); hits.Load() != 2 || !strings.Contains(mp.Text(), "redeliver") {
			t.Fatalf("after redelivery (%d hits): %s", hits.Load(), mp.Text())
		}
		// Replay since yesterday: the delivered message, unless only failed.
		since := e.Clock.Now().Add(-24 * 3600e9).UTC().Format("2006-01-02T15:04")
		if p := b.post("/dashboard/webhooks/"+id+"/replay", url.Values{"mode": {"test"}, "since": {since}, "only_failed": {"on"}}); p.Status != 303 ||
			!strings.Contains(b.follow(p).Text(), "No messages to replay") {
			t.Errorf("replay only failed: %d", p.Status)
		}
		if p := b.post("/dashboard/webhooks/"+id+"/replay", url.Values{"mode": {"test"}, "since": {since}}); p.Status != 303 ||
			!strings.Contains(b.follow(p).Text(), "1 message queued again") {
			t.Errorf("replay: %d", p.Status)
		}
		if p := b.post("/dashboard/webhooks/"+id+"/replay", url.Values{"mode": {"test"}, "since": {"yesterday"}}); p.Status != 400 {
			t.Errorf("bad since: %d", p.Status)
		}
		// Settings: refused input keeps the form; good input is saved.
		p = b.post("/dashboard/webhooks/"+id, url.Values{"mode": {"test"}, "url": {"ftp://x.example"}, "description": {"Changed"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `value="ftp://x.example"`) || !strings.Contains(p.Body, `value="Changed"`) {
			t.Fatalf("bad update: %d %s", p.Status, p.Text())
		}
		if ep, _ := e.App.Webhooks.Get(testCtx(e), id); ep.Description != "Orders" {
			t.Errorf("refused update changed it: %+v", ep)
		}
		p = b.post("/dashboard/webhooks/"+id, url.Values{"mode": {"test"}, "url": {rv.URL + "/v2"}, "description": {"Changed"},
			"event_types": {"verification.completed", "verification.failed"}})
		if ep, _ := e.App.Webhooks.Get(testCtx(e), id); p.Status != 303 || ep.URL != rv.URL+"/v2" || len(ep.EventTypes) != 2 {
			t.Errorf("update: %d %+v", p.Status, ep)
		}
		// Disable, enable, rotate.
		b.post("/dashboard/webhooks/"+id+"/disable", url.Values{"mode": {"test"}})
		if ep, _ := e.App.Webhooks.Get(testCtx(e), id); ep.Enabled {
			t.Error("still enabled")
		}
		if p := b.post("/dashboard/webhooks/"+id+"/test", url.Values{"mode": {"test"}}); p.Status != http.StatusConflict {
			t.Errorf("test-fire a disabled endpoint: %d", p.Status)
		}
		b.get("/dashboard/webhooks/" + id + "?mode=test")
		b.post("/dashboard/webhooks/"+id+"/enable", url.Values{"mode": {"test"}})
		if ep, _ := e.App.Webhooks.Get(testCtx(e), id); !ep.Enabled {
			t.Error("not enabled again")
		}
		if p := b.post("/dashboard/webhooks/"+id+"/rotate-secret", url.Values{"mode": {"test"}}); p.Status != 200 || !strings.Contains(p.Text(), "whsec_") {
			t.Errorf("rotate: %d %s", p.Status, p.Text())
		}
		// In the wrong mode, and with ids that are not, it is not found.
		for _, path := range []string{"/dashboard/webhooks/" + id, "/dashboard/webhooks/nope?mode=test",
			"/dashboard/webhooks/" + id + "/messages/nope?mode=test", "/dashboard/webhooks/" + id + "/messages/" + id + "?mode=test"} {
			if p := b.get(path); p.Status != 404 {
				t.Errorf("%s: %d", path, p.Status)
			}
		}
		if p := b.get("/dashboard/webhooks?mode=%00"); p.Status != 400 {
			t.Errorf("NUL mode: %d", p.Status)
		}
		// Another tenant's admin: not found, on pages and forms alike.
		rival := as(t, e, "rival", "admin")
		for _, path := range []string{"/dashboard/webhooks/" + id + "?mode=test", "/dashboard/webhooks/" + id + "/messages/" + msg + "?mode=test"} {
			if p := rival.get(path); p.Status != 404 {
				t.Errorf("rival %s: %d", path, p.Status)
			}
		}
		rival.get("/dashboard/webhooks")
		for _, action := range []string{"/test", "/rotate-secret", "/disable", "/delete", ""} {
			if p := rival.post("/dashboard/webhooks/"+id+action, url.Values{"mode": {"test"}, "url": {"https://x.example"}}); p.Status != 404 {
				t.Errorf("rival POST %s: %d", action, p.Status)
			}
		}
		if p := rival.get("/dashboard/webhooks?mode=test"); strings.Contains(p.Text(), rv.URL) {
			t.Error("rival lists acme's endpoint")
		}
		// Delete.
		b.get("/dashboard/webhooks/" + id + "?mode=test")
		if p := b.post("/dashboard/webhooks/"+id+"/delete", url.Values{"mode": {"test"}}); p.Status != 303 || p.Location() != "/dashboard/webhooks?mode=test" {
			t.Fatalf("delete: %d %s", p.Status, p.Location())
		}
		if _, err := e.App.Webhooks.Get(testCtx(e), id); verigate.ErrorCode(err) != verigate.ENOTFOUND {
			t.Errorf("after delete: %v", err)
		}
	})
}

func TestWebhooksPermissions(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		org := seedOrg(t, e, "acme")
		made, err := e.App.Webhooks.Create(e.System, deliveryInput(org, "https://hooks.example/a"))
		if err != nil {
			t.Fatal(err)
		}
		id := made.Endpoint.ID
		// A reviewer: no link, and 403 on pages and forms.
		r := as(t, e, "acme", "reviewer")
		if home := r.get("/dashboard/"); strings.Contains(home.Body, `href="/dashboard/webhooks"`) {
			t.Error("reviewer sees the webhooks link")
		}
		for _, path := range []string{"/dashboard/webhooks", "/dashboard/webhooks/new", "/dashboard/webhooks/" + id} {
			if p := r.get(path); p.Status != 403 {
				t.Errorf("reviewer %s: %d", path, p.Status)
			}
		}
		if p := r.post("/dashboard/webhooks/"+id+"/test", nil); p.Status != 403 {
			t.Errorf("reviewer test-fire: %d", p.Status)
		}
		// A viewer reads, without the buttons; its forms are refused.
		v := as(t, e, "acme", "viewer")
		p := v.get("/dashboard/webhooks/" + id)
		if p.Status != 200 || !strings.Contains(p.Text(), "https://hooks.example/a") {
			t.Fatalf("viewer detail: %d %s", p.Status, p.Text())
		}
		for _, button := range []string{"Send test message", "Rotate signing secret", "Disable endpoint", "Save settings", "Replay messages", "Delete endpoint"} {
			if strings.Contains(p.Text(), button) {
				t.Errorf("viewer sees %q", button)
			}
		}
		if list := v.get("/dashboard/webhooks"); strings.Contains(list.Text(), "Add an endpoint") || !strings.Contains(list.Body, `href="/dashboard/webhooks"`) {
			t.Errorf("viewer list: %s", list.Text())
		}
		if p := v.post("/dashboard/webhooks/"+id+"/rotate-secret", nil); p.Status != 403 {
			t.Errorf("viewer rotate: %d", p.Status)
		}
		// A developer holds every webhooks permission: every action shows.
		d := as(t, e, "acme", "developer")
		if p := d.get("/dashboard/webhooks/" + id); !strings.Contains(p.Text(), "Send test message") || !strings.Contains(p.Text(), "Delete endpoint") {
			t.Errorf("developer detail: %s", p.Text())
		}
	})
}
