package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

// TestStoreWebhookAttemptStats: counts and nearest-rank percentiles of
// the attempts in reach, mode and period, exactly, on both engines; and
// the messages about one subject.
func TestStoreWebhookAttemptStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		seedWebhookOrgs(t, db)
		createEndpoints(t, db, endpoint("a", "i1"), endpoint("b", "i2"))
		for range 3 {
			addEvent(t, db, "i1", verigate.EventVerificationCompleted, "1")
			addEvent(t, db, "i2", verigate.EventVerificationCompleted, "2")
		}
		if _, _, err := db.Dispatch(ctx, t0, 100, standardBody); err != nil {
			t.Fatal(err)
		}
		got := claim(t, db, t0)
		a, b := got["a"], got["b"]
		at := t0.Add(time.Second)
		try := func(m *verigate.WebhookMessage, code int, ms int64, status verigate.WebhookMessageStatus) verigate.WebhookAttemptResult {
			return verigate.WebhookAttemptResult{Status: status, Attempt: verigate.WebhookAttempt{MessageID: m.ID, N: 1, At: at,
				Trigger: m.Trigger, StatusCode: code, Latency: time.Duration(ms) * time.Millisecond}}
		}
		if err := db.RecordWebhookAttempts(ctx, []verigate.WebhookRecord{
			{EndpointID: "a", LeaseUntil: a.LeaseUntil, At: at, Succeeded: true, Attempts: []verigate.WebhookAttemptResult{
				try(a.Messages[0], 200, 30, verigate.MessageDelivered), try(a.Messages[1], 204, 10, verigate.MessageDelivered),
				try(a.Messages[2], 200, 20, verigate.MessageDelivered)}},
			{EndpointID: "b", LeaseUntil: b.LeaseUntil, At: at, Failed: true, Release: ids(b)[1:],
				Attempts: []verigate.WebhookAttemptResult{try(b.Messages[0], 500, 400, verigate.MessagePending)}},
		}); err != nil {
			t.Fatal(err)
		}
		ms := time.Millisecond
		for _, c := range []struct {
			orgs     []string
			mode     verigate.Mode
			from, to time.Time
			want     verigate.WebhookStats
		}{
			{[]string{"r1", "i1", "i2"}, verigate.ModeLive, t0, t0.Add(time.Hour), verigate.WebhookStats{Attempts: 4, Succeeded: 3, P50: 20 * ms, P95: 400 * ms}},
			{[]string{"i1"}, verigate.ModeLive, t0, t0.Add(time.Hour), verigate.WebhookStats{Attempts: 3, Succeeded: 3, P50: 20 * ms, P95: 30 * ms}},
			{[]string{"i2"}, verigate.ModeLive, t0, t0.Add(time.Hour), verigate.WebhookStats{Attempts: 1, Succeeded: 0, P50: 400 * ms, P95: 400 * ms}},
			{[]string{"r2"}, verigate.ModeLive, t0, t0.Add(time.Hour), verigate.WebhookStats{}},
			{[]string{"i1", "i2"}, verigate.ModeTest, t0, t0.Add(time.Hour), verigate.WebhookStats{}},
			{[]string{"i1", "i2"}, verigate.ModeLive, at.Add(ms), t0.Add(time.Hour), verigate.WebhookStats{}},
			{nil, verigate.ModeLive, t0, t0.Add(time.Hour), verigate.WebhookStats{}},
		} {
			got, err := db.WebhookAttemptStats(ctx, c.orgs, c.mode, c.from, c.to)
			if err != nil || got != c.want {
				t.Errorf("%v %s: %+v, %v; want %+v", c.orgs, c.mode, got, err, c.want)
			}
		}
		// The messages about subject "1" of i1: a's three, newest first.
		list, err := db.SubjectWebhookMessages(ctx, []string{"r1", "i1", "i2"}, verigate.ModeLive, "i1", "1", 10)
		if err != nil || len(list) != 3 || list[0].EndpointID != "a" || list[0].ID < list[2].ID {
			t.Fatalf("subject messages: %+v, %v", list, err)
		}
		for _, c := range []struct {
			orgs         []string
			mode         verigate.Mode
			org, subject string
		}{{[]string{"i2"}, verigate.ModeLive, "i1", "1"}, {[]string{"i1"}, verigate.ModeTest, "i1", "1"},
			{[]string{"i1"}, verigate.ModeLive, "i2", "1"}, {[]string{"i1"}, verigate.ModeLive, "i1", "2"}} {
			if list, err := db.SubjectWebhookMessages(ctx, c.orgs, c.mode, c.org, c.subject, 10); err != nil || len(list) != 0 {
				t.Errorf("%+v: %d messages, %v", c, len(list), err)
			}
		}
		if list, _ := db.SubjectWebhookMessages(ctx, []string{"i1"}, verigate.ModeLive, "i1", "1", 2); len(list) != 2 {
			t.Errorf("limit: %d", len(list))
		}
	})
}
