package delivery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
	"github.com/verigate/verigate/internal/webhook"
)

// jittered is d with the tests' pinned jitter (0.5: +5 %).
func jittered(d time.Duration) time.Duration { return d + d/20 }

// untilDone runs the worker at each message's next attempt until it has
// none; it returns the attempt times.
func (e *env) untilDone(t *testing.T, endpointID string) []time.Time {
	t.Helper()
	for range 20 {
		e.work(t)
		msgs, err := e.svc.Messages(e.inst, endpointID, delivery.MessageFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if msgs[0].NextAttemptAt.IsZero() {
			break
		}
		e.clock.Set(msgs[0].NextAttemptAt)
	}
	var at []time.Time
	for _, a := range e.sender.attempts() {
		at = append(at, a.At)
	}
	return at
}

// TestSchedule: a receiver that always fails gets attempts at 0, 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the one before (with the
// jitter), and the message fails after the eighth.
func TestSchedule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{})
		e.sender.respond = status(500)
		ep := e.create(t, e.inst, delivery.EndpointInput{URL: "https://down.example"}).Endpoint
		e.emit(t, "i1", verigate.EventVerificationCompleted, "1")
		at := e.untilDone(t, ep.ID)
		want := []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
		if len(at) != len(want) {
			t.Fatalf("%d attempts, want %d", len(at), len(want))
		}
		for i := 1; i < len(at); i++ {
			if got := at[i].Sub(at[i-1]); got != jittered(want[i]).Truncate(time.Millisecond) {
				t.Errorf("attempt %d came %v after the one before, want %v", i+1, got, jittered(want[i]))
			}
		}
		msgs, _ := e.svc.Messages(e.inst, ep.ID, delivery.MessageFilter{Limit: 10})
		m, attempts, _ := e.svc.Message(e.inst, ep.ID, msgs[0].ID)
		if m.Status != verigate.MessageFailed || m.Attempts != 8 || len(attempts) != 8 || !attempts[7].NextAttemptAt.IsZero() ||
			!attempts[6].NextAttemptAt.Equal(at[7]) {
			t.Fatalf("after 8 failures: %+v", m)
		}
		e.clock.Advance(48 * time.Hour)
		if n := e.work(t); n != 0 {
			t.Fatalf("a failed message was tried again: %d", n)
		}
		// Not disabled yet: failing for about 28 h.
		if got, _ := e.svc.Get(e.inst, ep.ID); !got.Enabled || !got.FailingSince.Equal(t0) {
			t.Fatalf("endpoint: %+v", got)
		}
	})
}

// TestFailures: 410 disables, Retry-After on 429 waits, abort-message
// ends a message, five days of failures disable with an event.
func TestFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{})
		watch := e.create(t, e.inst, delivery.EndpointInput{URL: "https://watch.example",
			EventTypes: []verigate.EventType{verigate.EventEndpointDisabled}}).Endpoint
		gone := e.create(t, e.inst, delivery.EndpointInput{URL: "https://gone.example",
			EventTypes: []verigate.EventType{verigate.EventVerificationCompleted}}).Endpoint
		busy := e.create(t, e.inst, delivery.EndpointInput{URL: "https://busy.example",
			EventTypes: []verigate.EventType{verigate.EventVerificationCompleted}}).Endpoint
		abort := e.create(t, e.inst, delivery.EndpointInput{URL: "https://abort.example",
			EventTypes: []verigate.EventType{verigate.EventVerificationCompleted}}).Endpoint
		e.sender.respond = func(d webhook.Delivery) webhook.Result {
			switch {
			case strings.Contains(d.URL, "gone"):
				return webhook.Result{Status: 410}
			case strings.Contains(d.URL, "busy"):
				return webhook.Result{Status: 429, RetryAfter: time.Hour}
			case strings.Contains(d.URL, "abort") && strings.Contains(string(d.Body), `"subject":"1"`):
				return webhook.Result{Status: 400, Abort: true}
			}
			return webhook.Result{Status: 204}
		}
		e.emit(t, "i1", verigate.EventVerificationCompleted, "1")
		e.emit(t, "i1", verigate.EventVerificationCompleted, "2")
		e.work(t)
		// 410: one attempt, the endpoint disabled, and an event says so.
		if n := len(e.sender.to("https://gone.example")); n != 1 {
			t.Fatalf("gone got %d attempts", n)
		}
		g, _ := e.svc.Get(e.inst, gone.ID)
		if g.Enabled || !strings.Contains(g.DisabledReason, "410") {
			t.Fatalf("after 410: %+v", g)
		}
		// Abort: the first message ends, the second goes.
		msgs, _ := e.svc.Messages(e.inst, abort.ID, delivery.MessageFilter{Limit: 10})
		if msgs[1].Status != verigate.MessageAborted || msgs[0].Status != verigate.MessageDelivered {
			t.Fatalf("abort: %s %s", msgs[1].Status, msgs[0].Status)
		}
		// 429 with an hour's Retry-After: not at 5 s, at an hour.
		e.clock.Advance(10 * time.Second)
		e.work(t) // dispatches endpoint.disabled to watch; busy waits
		if n := len(e.sender.to("https://busy.example")); n != 1 {
			t.Fatalf("busy retried before its Retry-After: %d", n)
		}
		w := e.sender.to("https://watch.example")
		if len(w) != 1 || !strings.Contains(string(w[0].Delivery.Body), `"type":"endpoint.disabled"`) ||
			!strings.Contains(string(w[0].Delivery.Body), gone.ID) {
			t.Fatalf("endpoint.disabled: %v", w)
		}
		e.clock.Set(t0.Add(time.Hour))
		e.work(t)
		if n := len(e.sender.to("https://busy.example")); n != 2 {
			t.Fatalf("busy after its Retry-After: %d attempts", n)
		}

		// Five days failing: disabled on the next failure after them.
		e.sender.respond = status(503)
		e.clock.Set(t0.Add(2 * time.Hour))
		down := e.create(t, e.inst, delivery.EndpointInput{URL: "https://down.example",
			EventTypes: []verigate.EventType{verigate.EventStepUpdated}}).Endpoint
		e.emit(t, "i1", verigate.EventStepUpdated, "1")
		e.work(t)
		e.clock.Advance(delivery.FailingLimit - time.Second)
		e.emit(t, "i1", verigate.EventStepUpdated, "2")
		e.work(t)
		if d, _ := e.svc.Get(e.inst, down.ID); !d.Enabled {
			t.Fatal("disabled before five days")
		}
		e.clock.Advance(time.Hour)
		e.work(t)
		d, _ := e.svc.Get(e.inst, down.ID)
		if d.Enabled || !strings.Contains(d.DisabledReason, "5 days") {
			t.Fatalf("after five days: %+v", d)
		}
		evs, _ := db.ListEvents(context.Background(), "i1", 0, 100)
		var disabled []string
		for _, ev := range evs {
			if ev.Type == verigate.EventEndpointDisabled {
				disabled = append(disabled, ev.Subject)
			}
		}
		// busy, failing since t0, went the same way first.
		if len(disabled) != 3 || disabled[0] != gone.ID || disabled[1] != busy.ID || disabled[2] != down.ID {
			t.Fatalf("endpoint.disabled events: %v", disabled)
		}
		// Re-enabling clears its failing time; its queue goes out.
		on := true
		e.sender.respond = nil
		if d, err := e.svc.Update(e.inst, down.ID, delivery.EndpointUpdate{Enabled: &on}); err != nil || !d.FailingSince.IsZero() || d.DisabledReason != "" {
			t.Fatalf("re-enable: %+v %v", d, err)
		}
		e.clock.Advance(time.Hour)
		e.work(t)
		if msgs, _ := e.svc.Messages(e.inst, down.ID, delivery.MessageFilter{Status: verigate.MessageDelivered, Limit: 10}); len(msgs) != 2 {
			t.Fatalf("after re-enabling: %d delivered", len(msgs))
		}
		_ = watch
	})
}

// TestOrder: an endpoint's messages go out in order; a failing one holds
// the later ones of its endpoint, not another endpoint's.
func TestOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{})
		a := e.create(t, e.admin, delivery.EndpointInput{URL: "https://a.example", OrgID: "i1"}).Endpoint
		e.create(t, e.admin, delivery.EndpointInput{URL: "https://b.example", OrgID: "i2"})
		all := e.create(t, e.admin, delivery.EndpointInput{URL: "https://all.example", IncludeChildren: true}).Endpoint
		fail := true
		e.sender.respond = func(d webhook.Delivery) webhook.Result {
			if fail && d.URL == "https://a.example" {
				return webhook.Result{Err: errors.New("connection refused")}
			}
			return webhook.Result{Status: 200}
		}
		for _, s := range []string{"1", "2", "3"} {
			e.emit(t, "i1", verigate.EventVerificationCompleted, s)
			e.emit(t, "i2", verigate.EventVerificationCompleted, s)
		}
		e.work(t)
		if n := len(e.sender.to("https://a.example")); n != 1 {
			t.Fatalf("a: %d attempts, want its head only", n)
		}
		if n := len(e.sender.to("https://b.example")); n != 3 {
			t.Fatalf("b held by a: %d attempts", n)
		}
		subjects := func(url string) string {
			var s []string
			for _, x := range e.sender.to(url) {
				s = append(s, string(x.Delivery.Body[strings.Index(string(x.Delivery.Body), `"subject":"`)+11]))
			}
			return strings.Join(s, "")
		}
		if got := subjects("https://all.example"); got != "112233" {
			t.Fatalf("the reseller's endpoint got %s, want its children's events in order", got)
		}
		fail = false
		e.clock.Advance(jittered(5 * time.Second))
		e.work(t)
		if got := subjects("https://a.example"); got != "1123" {
			t.Fatalf("a got %s after its head recovered", got)
		}
		msgs, _ := e.svc.Messages(e.admin, a.ID, delivery.MessageFilter{Limit: 10})
		_, attempts, _ := e.svc.Message(e.admin, a.ID, msgs[2].ID)
		if len(attempts) != 2 || attempts[0].Error != "connection refused" || attempts[0].StatusCode != 0 {
			t.Fatalf("the head's log: %+v", attempts)
		}
		_ = all
	})
}

// TestOperatorActions: redeliver, replay, test-fire, a lapsed lease, prune.
func TestOperatorActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		e := newEnv(t, db, delivery.Options{})
		ep := e.create(t, e.inst, delivery.EndpointInput{URL: "https://ops.example"}).Endpoint
		e.emit(t, "i1", verigate.EventVerificationCompleted, "1")
		e.emit(t, "i1", verigate.EventVerificationCompleted, "2")
		e.work(t)
		msgs, _ := e.svc.Messages(e.inst, ep.ID, delivery.MessageFilter{Limit: 10})
		code(t, e.svc.Redeliver(e.inst, ep.ID, "nope"), verigate.ENOTFOUND)
		if err := e.svc.Redeliver(e.inst, ep.ID, msgs[1].ID); err != nil {
			t.Fatal(err)
		}
		code(t, e.svc.Redeliver(e.inst, ep.ID, msgs[1].ID), verigate.ECONFLICT) // queued already
		e.work(t)
		got := e.sender.attempts()
		if len(got) != 3 || got[2].Delivery.Header[webhook.HeaderID] != msgs[1].ID {
			t.Fatalf("redelivered: %d attempts", len(got))
		}
		_, attempts, _ := e.svc.Message(e.inst, ep.ID, msgs[1].ID)
		if len(attempts) != 2 || attempts[1].Trigger != verigate.TriggerRedeliver || attempts[1].N != 2 {
			t.Fatalf("redelivery log: %+v", attempts)
		}
		_, err := e.svc.Replay(e.inst, ep.ID, time.Time{}, false)
		field(t, err, "since")
		n, err := e.svc.Replay(e.inst, ep.ID, t0, false)
		if err != nil || n != 2 {
			t.Fatalf("replay: %d %v", n, err)
		}
		e.work(t)
		got = e.sender.attempts()
		if len(got) != 5 || got[3].Delivery.Header[webhook.HeaderID] != msgs[1].ID || got[4].Delivery.Header[webhook.HeaderID] != msgs[0].ID {
			t.Fatal("replay out of order")
		}
		if n, _ := e.svc.Replay(e.inst, ep.ID, t0, true); n != 0 {
			t.Fatalf("replayed %d failed ones; none failed", n)
		}

		// Test-fire.
		_, err = e.svc.SendTest(e.inst, ep.ID, "nope")
		field(t, err, "event_type")
		tm, err := e.svc.SendTest(e.inst, ep.ID, "")
		if err != nil || tm.EventType != verigate.EventWebhookTest {
			t.Fatal(err)
		}
		e.work(t)
		got = e.sender.attempts()
		if len(got) != 6 || !strings.Contains(string(got[5].Delivery.Body), `"type":"webhook.test"`) {
			t.Fatalf("test message: %d %s", len(got), got[len(got)-1].Delivery.Body)
		}
		_, attempts, _ = e.svc.Message(e.inst, ep.ID, tm.ID)
		if len(attempts) != 1 || attempts[0].Trigger != verigate.TriggerTest {
			t.Fatalf("test log: %+v", attempts)
		}

		// A worker that claims and dies: its messages come back after the lease.
		e.emit(t, "i1", verigate.EventVerificationCompleted, "3")
		db.Dispatch(ctx, e.clock.Now(), 100, func(ev verigate.Event, _ *verigate.WebhookEndpoint) ([]byte, error) {
			return ev.WebhookBody(false)
		})
		if b, err := db.ClaimWebhookMessages(ctx, e.clock.Now(), 2*time.Minute, 10, 10); err != nil || len(b) != 1 {
			t.Fatalf("the dead worker's claim: %v %v", b, err)
		}
		if n := e.work(t); n != 0 {
			t.Fatalf("sent under another's lease: %d", n)
		}
		e.clock.Advance(2 * time.Minute)
		if n := e.work(t); n != 1 {
			t.Fatalf("after the lease: %d", n)
		}
		if st, _ := e.worker.Stats(ctx); st.Depth != 0 {
			t.Fatalf("queue: %+v", st)
		}

		// Prune: the events of a month ago go with their messages and log.
		e.clock.Advance(31 * 24 * time.Hour)
		e.emit(t, "i1", verigate.EventVerificationCompleted, "4")
		e.work(t)
		if n, err := e.worker.Prune(ctx, 30*24*time.Hour); err != nil || n != 3 {
			t.Fatalf("pruned %d %v", n, err)
		}
		left, _ := e.svc.Messages(e.inst, ep.ID, delivery.MessageFilter{Limit: 10})
		if len(left) != 1 {
			t.Fatalf("left: %d", len(left))
		}
	})
}

// TestRateLimit: an endpoint's rate spaces its attempts.
func TestRateLimit(t *testing.T) {
	db := storetest.Open(t, sqlstore.SQLite)
	e := newEnv(t, db, delivery.Options{})
	var waits []time.Duration
	e.worker = delivery.NewWorker(e.svc, e.sender, delivery.WorkerOptions{Sleep: func(_ context.Context, d time.Duration) {
		waits = append(waits, d)
	}})
	e.create(t, e.inst, delivery.EndpointInput{URL: "https://slow.example", RateLimit: 20})
	for range 5 {
		e.emit(t, "i1", verigate.EventVerificationCompleted, "1")
	}
	e.work(t)
	if len(waits) != 4 {
		t.Fatalf("waited %d times, want 4", len(waits))
	}
	for i, d := range waits {
		if want := time.Duration(i+1) * 50 * time.Millisecond; d < want-10*time.Millisecond || d > want {
			t.Fatalf("wait %d: %v, want about %v", i, d, want)
		}
	}
}
