package delivery_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/delivery"
	"github.com/verigate/verigate/internal/sqlstore"
	"github.com/verigate/verigate/internal/sqlstore/storetest"
	"github.com/verigate/verigate/internal/webhook"
)

// TestOnAttempt: the observer hears every recorded attempt with its
// outcome, and a delivered message with how long after it was queued.
func TestOnAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, delivery.Options{})
		var mu sync.Mutex
		var outcomes []string
		var queued []time.Duration
		w := delivery.NewWorker(e.svc, e.sender, delivery.WorkerOptions{Jitter: func() float64 { return 0 },
			OnAttempt: func(outcome string, d time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				outcomes = append(outcomes, outcome)
				queued = append(queued, d)
			}})
		// The clock moves 2 s during each attempt.
		answers := []int{500, 200, 410}
		e.sender.respond = func(webhook.Delivery) webhook.Result {
			e.clock.Advance(2 * time.Second)
			code := answers[0]
			answers = answers[1:]
			return webhook.Result{Status: code, Latency: 2 * time.Second}
		}
		ep := e.create(t, e.inst, delivery.EndpointInput{URL: "https://hooks.example/a"}).Endpoint
		e.emit(t, "i1", verigate.EventVerificationCompleted, "1")
		work := func() {
			if _, err := w.Work(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		work() // 500: retried in 5 s
		e.clock.Advance(5 * time.Second)
		work() // 200
		e.emit(t, "i1", verigate.EventVerificationCompleted, "2")
		work() // 410: disabled
		want := []string{delivery.OutcomeRetrying, delivery.OutcomeDelivered, delivery.OutcomeDisabled}
		if strings.Join(outcomes, ",") != strings.Join(want, ",") {
			t.Fatalf("outcomes %v, want %v", outcomes, want)
		}
		// Queued at t0; delivered at t0 + 2 s (first attempt) + 5 s + 2 s.
		if queued[0] != -1 || queued[1] != 9*time.Second || queued[2] != -1 {
			t.Fatalf("queued durations %v", queued)
		}
		if got, _ := e.svc.Get(e.inst, ep.ID); got.Enabled {
			t.Fatal("the 410 did not disable the endpoint")
		}
	})
}
