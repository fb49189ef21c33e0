package dashboard_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/app/apptest"
)

var auditNext = regexp.MustCompile(`href="/dashboard/audit\?([^"]+)"`)

func TestAuditLog(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		acme := seedOrg(t, e, "acme")
		rival := seedOrg(t, e, "rival")
		// 60 events of acme's, a day apart from the 61st, and one of rival's.
		base := e.Clock.Now().Add(-48 * time.Hour)
		for i := range 60 {
			ev := verigate.AuditEvent{At: base.Add(time.Duration(i) * time.Minute), ActorKind: verigate.PrincipalUser,
				ActorID: fmt.Sprintf("actor-%d", i%2), Action: "thing.poke", TargetKind: "thing", TargetID: fmt.Sprintf("t-%d", i),
				OrgID: acme.ID, RequestID: fmt.Sprintf("req-%d", i), Outcome: verigate.OutcomeSuccess}
			if i == 7 {
				ev.RequestedBy = "operator7"
			}
			if err := e.App.DB.RecordAudit(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		e.App.DB.RecordAudit(context.Background(), verigate.AuditEvent{At: base, ActorKind: verigate.PrincipalUser, ActorID: "x",
			Action: "thing.poke", TargetKind: "thing", TargetID: "rival-secret", OrgID: rival.ID, Outcome: verigate.OutcomeSuccess})
		b := as(t, e, "acme", "admin")
		p := b.get("/dashboard/audit?action=thing.poke")
		if p.Status != 200 || strings.Count(p.Body, "<th scope=\"row\">") != 50 || !strings.Contains(p.Text(), "t-59") || strings.Contains(p.Text(), "t-9 ") {
			t.Fatalf("first page: %d %d rows %s", p.Status, strings.Count(p.Body, "<th scope=\"row\">"), p.Text())
		}
		next := auditNext.FindStringSubmatch(p.Body)
		if next == nil {
			t.Fatal("no next page link")
		}
		p = b.get("/dashboard/audit?" + strings.ReplaceAll(next[1], "&amp;", "&"))
		if p.Status != 200 || strings.Count(p.Body, "<th scope=\"row\">") != 10 || !strings.Contains(p.Text(), "t-0 ") || strings.Contains(p.Text(), "Older events") {
			t.Fatalf("second page: %d %s", p.Status, p.Text())
		}
		if strings.Contains(p.Text(), "rival-secret") {
			t.Error("another tenant's event")
		}
		// Filters: target, actor (or requested by), dates.
		if p := b.get("/dashboard/audit?target=t-3"); strings.Count(p.Body, "<th scope=\"row\">") != 1 || !strings.Contains(p.Text(), "req-3") {
			t.Errorf("target: %s", p.Text())
		}
		if p := b.get("/dashboard/audit?actor=operator7"); strings.Count(p.Body, "<th scope=\"row\">") != 1 || !strings.Contains(p.Text(), "for operator7") {
			t.Errorf("requested by: %s", p.Text())
		}
		if p := b.get("/dashboard/audit?action=thing.poke&actor=actor-1&action="); p.Status != 400 {
			t.Errorf("action twice: %d", p.Status)
		}
		if p := b.get("/dashboard/audit?action=thing.poke&actor=actor-1"); strings.Count(p.Body, "<th scope=\"row\">") != 30 {
			t.Errorf("actor: %d rows", strings.Count(p.Body, "<th scope=\"row\">"))
		}
		day := base.Format(time.DateOnly)
		if p := b.get("/dashboard/audit?action=thing.poke&since=" + day + "&until=" + day); strings.Count(p.Body, "<th scope=\"row\">") != 50 {
			t.Errorf("that day: %d rows", strings.Count(p.Body, "<th scope=\"row\">"))
		}
		if p := b.get("/dashboard/audit?since=" + e.Clock.Now().Add(24*time.Hour).Format(time.DateOnly)); !strings.Contains(p.Text(), "No audit events match") {
			t.Errorf("tomorrow: %s", p.Text())
		}
		// Empty fields of the form are no filter; bad ones are 4xx.
		if p := b.get("/dashboard/audit?action=&target=&actor=&since=&until="); p.Status != 200 {
			t.Errorf("empty form: %d", p.Status)
		}
		for _, q := range []string{"since=yesterday", "until=2026-13-01", "before=abc", "before=-1", "action=%00", "target=%ff",
			"since=2026-11-20&until=2026-11-19", "actor=" + strings.Repeat("a", 201)} {
			if p := b.get("/dashboard/audit?" + q); p.Status != 400 {
				t.Errorf("%s: %d", q, p.Status)
			}
		}
	})
}
