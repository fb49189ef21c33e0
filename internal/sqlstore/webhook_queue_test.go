package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
)

func claim(t *testing.T, db *sqlstore.DB, at time.Time) map[string]*verigate.WebhookBatch {
	t.Helper()
	bs, err := db.ClaimWebhookMessages(context.Background(), at, time.Minute, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*verigate.WebhookBatch{}
	for _, b := range bs {
		out[b.Endpoint.ID] = b
	}
	return out
}

func ids(b *verigate.WebhookBatch) []string {
	if b == nil {
		return nil
	}
	var out []string
	for _, m := range b.Messages {
		out = append(out, m.ID)
	}
	return out
}

func attempt(m *verigate.WebhookMessage, at time.Time, status verigate.WebhookMessageStatus, next time.Time) verigate.WebhookAttemptResult {
	failures := m.Failures
	if status != verigate.MessageDelivered {
		failures++
	}
	return verigate.WebhookAttemptResult{Status: status, Failures: failures, Attempt: verigate.WebhookAttempt{MessageID: m.ID,
		N: m.Attempts + 1, At: at, Trigger: m.Trigger, StatusCode: 500, Latency: 12 * time.Millisecond, Response: "no", NextAttemptAt: next}}
}

// TestStoreWebhookQueue is the contract for claiming and recording:
// per-endpoint order, head-of-line blocking, leases, the endpoint's
// failing time and disabling, redelivery, replay, pruning.
func TestStoreWebhookQueue(t *testing.T) {
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
		if got := claim(t, db, t0.Add(-time.Second)); len(got) != 0 {
			t.Fatalf("claimed before due: %v", got)
		}
		first := claim(t, db, t0)
		a, b := first["a"], first["b"]
		if len(ids(a)) != 3 || len(ids(b)) != 3 || a.Messages[0].Status != verigate.MessageSending || string(a.Keys.Secret) != "sealed a" {
			t.Fatalf("first claim: %v %v", ids(a), ids(b))
		}
		if got := claim(t, db, t0.Add(59*time.Second)); len(got) != 0 {
			t.Fatalf("claimed what is leased: %v", got)
		}
		stats, _ := db.WebhookQueueStats(ctx)
		if stats.Depth != 6 || !stats.OldestPending.Equal(t0) {
			t.Fatalf("stats: %+v", stats)
		}

		// a's head fails (the rest of its batch released untried); b's all succeed.
		at := t0.Add(time.Second)
		retry := at.Add(5 * time.Second)
		recs := []verigate.WebhookRecord{
			{EndpointID: "a", LeaseUntil: a.LeaseUntil, At: at, Failed: true,
				Attempts: []verigate.WebhookAttemptResult{attempt(a.Messages[0], at, verigate.MessagePending, retry)},
				Release:  ids(a)[1:]},
			{EndpointID: "b", LeaseUntil: b.LeaseUntil, At: at, Succeeded: true, Attempts: []verigate.WebhookAttemptResult{
				attempt(b.Messages[0], at, verigate.MessageDelivered, time.Time{}), attempt(b.Messages[1], at, verigate.MessageDelivered, time.Time{}),
				attempt(b.Messages[2], at, verigate.MessageDelivered, time.Time{})}},
		}
		if err := db.RecordWebhookAttempts(ctx, recs); err != nil {
			t.Fatal(err)
		}
		ms := queued(t, db, "a")
		if ms[0].Status != verigate.MessagePending || ms[0].Attempts != 1 || ms[0].Failures != 1 || !ms[0].NextAttemptAt.Equal(retry) ||
			ms[1].Status != verigate.MessagePending || ms[1].Attempts != 0 {
			t.Fatalf("a after a failure: %+v %+v", ms[0], ms[1])
		}
		for _, m := range queued(t, db, "b") {
			if m.Status != verigate.MessageDelivered || m.Attempts != 1 || !m.DeliveredAt.Equal(at) || !m.NextAttemptAt.IsZero() {
				t.Fatalf("b delivered: %+v", m)
			}
		}
		ep, _ := db.GetWebhookEndpoint(ctx, "a")
		if !ep.FailingSince.Equal(at) {
			t.Fatalf("failing since: %v", ep.FailingSince)
		}
		log, err := db.ListWebhookAttempts(ctx, ms[0].ID)
		if err != nil || len(log) != 1 || log[0].N != 1 || log[0].StatusCode != 500 || log[0].Latency != 12*time.Millisecond ||
			!log[0].NextAttemptAt.Equal(retry) || log[0].Trigger != verigate.TriggerScheduled || log[0].EndpointID != "a" {
			t.Fatalf("log: %+v %v", log, err)
		}
		// The failed head holds a's later messages, however due they are.
		if got := claim(t, db, at.Add(4*time.Second)); len(got) != 0 {
			t.Fatalf("claimed behind a head not due: %v", ids(got["a"]))
		}
		// A new message for b is not held by a.
		addEvent(t, db, "i2", verigate.EventVerificationCompleted, "2")
		db.Dispatch(ctx, at, 100, standardBody)
		if got := claim(t, db, at.Add(4*time.Second)); len(got) != 1 || len(ids(got["b"])) != 1 {
			t.Fatalf("b's new message: %v", got)
		}

		// a's head is due again: the whole queue, in order.
		second := claim(t, db, retry)["a"]
		if len(ids(second)) != 3 || ids(second)[0] != ms[0].ID || ids(second)[2] != ms[2].ID {
			t.Fatalf("second claim of a: %v", ids(second))
		}
		// Its worker dies: nothing is claimable until the lease lapses.
		if got := claim(t, db, retry.Add(59*time.Second)); got["a"] != nil {
			t.Fatal("claimed under a live lease")
		}
		third := claim(t, db, retry.Add(time.Minute))["a"]
		if len(ids(third)) != 3 {
			t.Fatalf("lapsed lease: %v", ids(third))
		}
		// The dead worker's late record changes nothing but the log.
		late := verigate.WebhookRecord{EndpointID: "a", LeaseUntil: second.LeaseUntil, At: retry, Succeeded: true,
			Attempts: []verigate.WebhookAttemptResult{attempt(second.Messages[0], retry, verigate.MessageDelivered, time.Time{})}}
		if err := db.RecordWebhookAttempts(ctx, []verigate.WebhookRecord{late}); err != nil {
			t.Fatal(err)
		}
		if m, _ := db.GetWebhookMessage(ctx, ms[0].ID); m.Status != verigate.MessageSending || !m.LeaseUntil.Equal(third.LeaseUntil) {
			t.Fatalf("a stale record changed the message: %+v", m)
		}

		// 410: the endpoint is disabled, with one endpoint.disabled event.
		now := retry.Add(time.Minute)
		ep.Mode = verigate.ModeLive
		gone := verigate.WebhookRecord{EndpointID: "a", LeaseUntil: third.LeaseUntil, At: now, Failed: true,
			Attempts: []verigate.WebhookAttemptResult{attempt(third.Messages[0], now, verigate.MessagePending, now.Add(5*time.Minute))},
			Release:  ids(third)[1:], Disable: "410 Gone", Events: []verigate.OutboxEvent{verigate.NewEndpointDisabled(ep, "410 Gone", now)}}
		if err := db.RecordWebhookAttempts(ctx, []verigate.WebhookRecord{gone, gone}); err != nil {
			t.Fatal(err)
		}
		ep, _ = db.GetWebhookEndpoint(ctx, "a")
		// (the late record's success had cleared the failing time: it was made)
		if ep.Enabled || ep.DisabledReason != "410 Gone" || !ep.FailingSince.Equal(now) {
			t.Fatalf("after 410: %+v", ep)
		}
		evs, _ := db.ListEvents(ctx, "i1", 0, 100)
		disabled := 0
		for _, e := range evs {
			if e.Type == verigate.EventEndpointDisabled && e.Subject == "a" {
				disabled++
			}
		}
		if disabled != 1 {
			t.Fatalf("%d endpoint.disabled events, want 1", disabled)
		}
		if got := claim(t, db, now.Add(time.Hour)); got["a"] != nil {
			t.Fatal("claimed for a disabled endpoint")
		}

		// Redeliver and replay: the same message ids, queued again in order.
		bms := queued(t, db, "b")
		code(t, db.RedeliverWebhookMessage(ctx, ms[0].ID, now, ev("webhook_message.redeliver", ms[0].ID)), verigate.ECONFLICT)
		if err := db.RedeliverWebhookMessage(ctx, bms[1].ID, now, ev("webhook_message.redeliver", bms[1].ID)); err != nil {
			t.Fatal(err)
		}
		got := claim(t, db, now)["b"]
		if len(ids(got)) != 1 || ids(got)[0] != bms[1].ID || got.Messages[0].Trigger != verigate.TriggerRedeliver || got.Messages[0].Attempts != 1 {
			t.Fatalf("redelivered: %+v", got)
		}
		db.RecordWebhookAttempts(ctx, []verigate.WebhookRecord{{EndpointID: "b", LeaseUntil: got.LeaseUntil, At: now, Failed: true,
			Attempts: []verigate.WebhookAttemptResult{attempt(got.Messages[0], now, verigate.MessageFailed, time.Time{})}}})
		if log, _ := db.ListWebhookAttempts(ctx, bms[1].ID); len(log) != 2 || log[1].Trigger != verigate.TriggerRedeliver || log[1].N != 2 {
			t.Fatalf("redelivery log: %+v", log)
		}
		n, err := db.ReplayWebhookMessages(ctx, "b", t0, true, now, ev("webhook_endpoint.replay", "b"))
		if err != nil || n != 1 {
			t.Fatalf("replay failed only: %d %v", n, err)
		}
		n, _ = db.ReplayWebhookMessages(ctx, "b", t0, false, now, ev("webhook_endpoint.replay", "b"))
		// The other delivered ones (0 and 2); 1 is queued already, and 3
		// is still sending (claimed above, and again when its lease
		// lapsed, never recorded).
		if n != 2 {
			t.Fatalf("replay all: %d", n)
		}
		got = claim(t, db, now)["b"]
		if len(ids(got)) != 3 || got.Messages[0].ID != bms[0].ID || got.Messages[2].ID != bms[2].ID || got.Messages[1].Trigger != verigate.TriggerReplay {
			t.Fatalf("replayed: %v", ids(got))
		}
		// Filters of the log.
		page, _ := db.ListWebhookMessages(ctx, verigate.WebhookMessageFilter{EndpointID: "b", Status: verigate.MessageSending, Limit: 2})
		if len(page) != 2 || page[0].ID != bms[3].ID {
			t.Fatalf("newest first: %v", page)
		}
		rest, _ := db.ListWebhookMessages(ctx, verigate.WebhookMessageFilter{EndpointID: "b", Before: page[1].ID, Limit: 10})
		if len(rest) != 2 || rest[0].ID != bms[1].ID {
			t.Fatalf("next page: %v", rest)
		}
		if none, _ := db.ListWebhookMessages(ctx, verigate.WebhookMessageFilter{EndpointID: "b", Since: now, Limit: 10}); len(none) != 0 {
			t.Fatalf("since: %v", none)
		}
		if none, _ := db.ListWebhookMessages(ctx, verigate.WebhookMessageFilter{EndpointID: "b", EventType: verigate.EventStepUpdated, Limit: 10}); len(none) != 0 {
			t.Fatalf("event type: %v", none)
		}

		// A test message goes after every other.
		tm := &verigate.WebhookMessage{EndpointID: "b", EventType: verigate.EventWebhookTest, Body: []byte(`{}`), Trigger: verigate.TriggerTest, CreatedAt: now}
		if err := db.InsertWebhookMessage(ctx, tm, ev("webhook_endpoint.test", "b")); err != nil {
			t.Fatal(err)
		}
		if all := queued(t, db, "b"); all[len(all)-1].ID != tm.ID || all[len(all)-1].Trigger != verigate.TriggerTest {
			t.Fatalf("test message: %+v", all[len(all)-1])
		}

		// Pruning: events older than the cut, with their messages and attempts.
		addEvent(t, db, "i2", verigate.EventVerificationCompleted, "new") // created at t0 too
		if err := db.Exec(ctx, `UPDATE events SET created_at = $1 WHERE subject = 'new'`, now.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		db.Dispatch(ctx, now, 100, standardBody)
		pruned, err := db.PruneEvents(ctx, now)
		if err != nil || pruned != 7 { // endpoint.disabled and the new one are not older than the cut
			t.Fatalf("pruned %d events, %v", pruned, err)
		}
		left := queued(t, db, "b")
		if len(left) != 2 || left[0].ID != tm.ID || left[1].EventType != verigate.EventVerificationCompleted {
			t.Fatalf("left after pruning: %v", left)
		}
		if log, _ := db.ListWebhookAttempts(ctx, bms[1].ID); len(log) != 0 {
			t.Fatal("attempts of a pruned message remain")
		}
	})
}

// TestStoreWebhookClaimStopsAtNotDue: a claim takes the due messages right
// behind the head and stops at the first that is not due: it never skips
// one to send a later one.
func TestStoreWebhookClaimStopsAtNotDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		seedWebhookOrgs(t, db)
		createEndpoints(t, db, endpoint("a", "i1"))
		for range 3 {
			addEvent(t, db, "i1", verigate.EventVerificationCompleted, "1")
		}
		db.Dispatch(ctx, t0, 100, standardBody)
		b := claim(t, db, t0)["a"]
		// The head fails for good; the second fails for now, due in 5 s.
		rec := verigate.WebhookRecord{EndpointID: "a", LeaseUntil: b.LeaseUntil, At: t0, Failed: true, Release: ids(b)[2:],
			Attempts: []verigate.WebhookAttemptResult{attempt(b.Messages[0], t0, verigate.MessageFailed, time.Time{}),
				attempt(b.Messages[1], t0, verigate.MessagePending, t0.Add(5*time.Second))}}
		if err := db.RecordWebhookAttempts(ctx, []verigate.WebhookRecord{rec}); err != nil {
			t.Fatal(err)
		}
		// Redelivered, the first is the head again, due now; the third is
		// due too, but the second between them is not.
		if err := db.RedeliverWebhookMessage(ctx, b.Messages[0].ID, t0, ev("webhook_message.redeliver", "m")); err != nil {
			t.Fatal(err)
		}
		got := claim(t, db, t0.Add(time.Second))["a"]
		if len(ids(got)) != 1 || ids(got)[0] != b.Messages[0].ID {
			t.Fatalf("claimed %v, want the head alone", ids(got))
		}
	})
}
