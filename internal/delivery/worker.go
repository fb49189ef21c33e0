package delivery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/webhook"
)

// Sender makes one HTTP attempt; webhook's client implements it.
type Sender interface {
	Send(ctx context.Context, d webhook.Delivery) webhook.Result
}

// WorkerOptions tune the worker; zero fields take the defaults.
type WorkerOptions struct {
	// Concurrency is how many endpoints are sent to at once (16).
	Concurrency int
	// Batch is how many of an endpoint's messages one claim takes (50).
	Batch int
	// Lease is how long a claim holds its messages (2 min). A batch stops
	// sending (and releases the rest) when an attempt could outlast it.
	Lease time.Duration
	// SendTimeout is the longest one attempt takes (the sender's 15 s
	// timeout); with Lease it bounds a batch.
	SendTimeout time.Duration
	// Poll is how often the worker looks for work without being woken:
	// other replicas' events and retries coming due (250 ms).
	Poll time.Duration
	// DispatchLimit is how many events one dispatch transaction takes (500).
	DispatchLimit int
	// Jitter returns a number in [0, 1) that spreads retry delays
	// (math/rand by default; tests pin it).
	Jitter func() float64
	// Sleep waits out an endpoint's rate limit (real time by default).
	Sleep func(ctx context.Context, d time.Duration)
	// OnAttempt, if set, is told of every attempt once it is recorded:
	// its outcome (one of the Outcome constants) and, for a delivered
	// message first queued by an event, how long after it was queued it
	// was delivered (-1 otherwise). Metrics use it; it must not block.
	OnAttempt func(outcome string, queued time.Duration)
}

// Attempt outcomes, as OnAttempt reports them.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetrying  = "failed_retrying" // failed; another attempt is scheduled
	OutcomeFailed    = "failed"          // failed its last scheduled attempt
	OutcomeAborted   = "aborted"         // the receiver asked for no more attempts
	OutcomeDisabled  = "disabled"        // failed, and its endpoint was disabled
)

// Failing for this long without a success disables an endpoint on its
// next failure.
const FailingLimit = 5 * 24 * time.Hour

// maxRetryAfter caps a receiver's Retry-After: the schedule's longest step.
const maxRetryAfter = 10 * time.Hour

// Worker dispatches events into messages and delivers them. It acts for
// no principal: only the app runs it; surfaces hold the Service.
type Worker struct {
	s      *Service
	sender Sender
	opts   WorkerOptions
	wake   chan struct{}
	done   chan struct{} // a batch finished: a slot is free
	mu     sync.Mutex
	paced  map[string]time.Time // endpoint → when its last attempt started (real time)
}

// NewWorker returns the worker of s, sending through sender.
func NewWorker(s *Service, sender Sender, opts WorkerOptions) *Worker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Batch <= 0 {
		opts.Batch = 50
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 15 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.DispatchLimit <= 0 {
		opts.DispatchLimit = 500
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.Sleep == nil {
		opts.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	w := &Worker{s: s, sender: sender, opts: opts, wake: make(chan struct{}, 1), done: make(chan struct{}, 1),
		paced: map[string]time.Time{}}
	s.wake = w.Wake
	return w
}

// Wake makes the worker look for work now: the app calls it after a
// commit that wrote events.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends: it dispatches events, claims due messages for
// as many endpoints as it has free slots, and sends each endpoint's batch
// in the background. When ctx ends, attempts under way finish and are
// recorded (each batch's untried messages are released) before Run
// returns.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.Poll)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.opts.Concurrency)
	for {
		if err := w.dispatch(ctx); err != nil && ctx.Err() == nil {
			w.s.log.Error("dispatch webhook events", "err", err)
		}
		if free := cap(slots) - len(slots); free > 0 && ctx.Err() == nil {
			batches, err := w.s.store.ClaimWebhookMessages(ctx, w.s.now(), w.opts.Lease, free, w.opts.Batch)
			if err != nil && ctx.Err() == nil {
				w.s.log.Error("claim webhook messages", "err", err)
			}
			for _, b := range batches {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.deliver(ctx, b)
					<-slots
					select {
					case w.done <- struct{}{}:
					default:
					}
				}()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-w.done:
		case <-t.C:
		}
	}
}

// Work dispatches every undispatched event, then claims and sends one
// round of batches (at most Concurrency endpoints at once) and records
// them; it returns how many attempts it made. Tests drive it step by
// step with a fake clock; Run is the same work, continuously.
func (w *Worker) Work(ctx context.Context) (int, error) {
	if err := w.dispatch(ctx); err != nil {
		return 0, err
	}
	batches, err := w.s.store.ClaimWebhookMessages(ctx, w.s.now(), w.opts.Lease, w.opts.Concurrency, w.opts.Batch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	var errs []error
	for _, b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			made, err := w.deliver(ctx, b)
			mu.Lock()
			n += made
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return n, errs[0]
	}
	return n, nil
}

// dispatch turns every undispatched event into messages.
func (w *Worker) dispatch(ctx context.Context) error {
	for {
		n, _, err := w.s.store.Dispatch(ctx, w.s.now(), w.opts.DispatchLimit, w.s.render)
		if err != nil || n < w.opts.DispatchLimit {
			return err
		}
	}
}

// deliver sends a batch and records it; it returns how many attempts it
// made.
func (w *Worker) deliver(ctx context.Context, b *verigate.WebhookBatch) (int, error) {
	rec := w.send(ctx, b)
	// The record outlives a shutdown: what was sent must be known.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := w.s.store.RecordWebhookAttempts(rctx, []verigate.WebhookRecord{rec}); err != nil {
		w.s.log.Error("record webhook attempts", "err", err, "endpoint", b.Endpoint.ID)
		return len(rec.Attempts), err
	}
	if w.opts.OnAttempt != nil {
		w.observe(b, rec)
	}
	return len(rec.Attempts), nil
}

// observe tells OnAttempt of a recorded batch's attempts.
func (w *Worker) observe(b *verigate.WebhookBatch, rec verigate.WebhookRecord) {
	for i, r := range rec.Attempts {
		outcome, queued := "", time.Duration(-1)
		switch r.Status {
		case verigate.MessageDelivered:
			outcome = OutcomeDelivered
			// Attempts are made in the batch's order, from its head.
			if m := b.Messages[i]; m.ID == r.Attempt.MessageID && m.Trigger == verigate.TriggerScheduled {
				queued = max(0, r.Attempt.At.Add(r.Attempt.Latency).Sub(m.CreatedAt))
			}
		case verigate.MessageAborted:
			outcome = OutcomeAborted
		case verigate.MessageFailed:
			outcome = OutcomeFailed
		default:
			outcome = OutcomeRetrying
		}
		if rec.Disable != "" && r.Status != verigate.MessageDelivered && r.Status != verigate.MessageAborted {
			outcome = OutcomeDisabled
		}
		w.opts.OnAttempt(outcome, queued)
	}
}

// signer holds an endpoint's opened keys for one batch.
type signer struct {
	keys       [][]byte // current, then previous while it still signs
	secretText string   // the current whsec_ secret, Reconbanker's HMAC key
	auth       string   // the Authorization header, "" for none
	err        error    // the keys could not be opened
}

func (w *Worker) signer(ctx context.Context, b *verigate.WebhookBatch, now time.Time) signer {
	ep := b.Endpoint
	keys, sealedTo := b.Keys, ep.ID
	if ep.SessionID != 0 {
		// A verification's own endpoint signs with its organization's
		// verification secret.
		sec, err := w.s.store.VerificationSecret(ctx, ep.OrgID, ep.Mode)
		if err != nil {
			return signer{err: fmt.Errorf("the organization's verification secret cannot be read: %w", err)}
		}
		keys.Secret, keys.Previous, keys.PreviousUntil = sec.Keys.Secret, sec.Keys.Previous, sec.Keys.PreviousUntil
		sealedTo = verificationSecretID(ep.OrgID, ep.Mode)
	}
	plain, err := w.s.seal.Open(sealedTo, keys.Secret)
	if err != nil {
		return signer{err: fmt.Errorf("the endpoint's secret cannot be read on this server")}
	}
	key, err := webhook.ParseSecret(string(plain))
	if err != nil {
		return signer{err: err}
	}
	sg := signer{keys: [][]byte{key}, secretText: string(plain)}
	if len(keys.Previous) > 0 && now.Before(keys.PreviousUntil) {
		if prev, err := w.s.seal.Open(sealedTo, keys.Previous); err == nil {
			if pk, err := webhook.ParseSecret(string(prev)); err == nil {
				sg.keys = append(sg.keys, pk)
			}
		}
	}
	if ep.AuthScheme != verigate.AuthNone && len(b.Keys.AuthToken) > 0 {
		tok, err := w.s.seal.Open(authID(ep.ID), b.Keys.AuthToken)
		if err != nil {
			return signer{err: fmt.Errorf("the endpoint's auth token cannot be read on this server")}
		}
		sg.auth = string(ep.AuthScheme) + " " + string(tok)
	}
	return sg
}

// delivery is message m as an HTTP attempt at ts: the Standard Webhooks
// headers always (a receiver ignores what it does not know), the
// endpoint's Authorization, and Reconbanker's signature for that flavour.
func (sg signer) delivery(ep *verigate.WebhookEndpoint, m *verigate.WebhookMessage, ts time.Time) webhook.Delivery {
	h := webhook.StandardHeaders(m.ID, ts, m.Body, sg.keys...)
	if sg.auth != "" {
		h["Authorization"] = sg.auth
	}
	if ep.Flavour == verigate.FlavourReconbanker {
		h[webhook.HeaderReconbankerTimestamp] = strconv.FormatInt(ts.Unix(), 10)
		h[webhook.HeaderReconbankerSignature] = webhook.ReconbankerSignature([]byte(sg.secretText), ts, m.Body)
	}
	return webhook.Delivery{URL: ep.URL, Header: h, Body: m.Body}
}

// send makes a batch's attempts one after another, in order, until one
// fails; it returns what they came to.
func (w *Worker) send(ctx context.Context, b *verigate.WebhookBatch) verigate.WebhookRecord {
	ep := b.Endpoint
	rec := verigate.WebhookRecord{EndpointID: ep.ID, LeaseUntil: b.LeaseUntil}
	sg := w.signer(ctx, b, w.s.now())
	for i, m := range b.Messages {
		release := func() {
			for _, r := range b.Messages[i:] {
				rec.Release = append(rec.Release, r.ID)
			}
		}
		// An attempt that could outlast the lease is left to the next
		// claim: a message is never sent by two workers at once.
		if ctx.Err() != nil || w.s.now().Add(w.opts.SendTimeout).After(b.LeaseUntil) {
			release()
			break
		}
		w.pace(ctx, ep)
		start := w.s.now()
		var res webhook.Result
		if sg.err != nil {
			res = webhook.Result{Err: sg.err}
		} else {
			// An attempt under way when the worker stops is let finish
			// (the sender's timeout bounds it) and recorded: cut short,
			// it might have reached the receiver and be sent again.
			res = w.sender.Send(context.WithoutCancel(ctx), sg.delivery(ep, m, start))
		}
		stop := w.outcome(&rec, ep, m, start, res)
		if stop {
			for _, r := range b.Messages[i+1:] {
				rec.Release = append(rec.Release, r.ID)
			}
			break
		}
	}
	rec.At = w.s.now()
	return rec
}

// outcome records attempt res of message m in rec; it reports whether the
// batch stops there (the message failed, or the endpoint is disabled).
func (w *Worker) outcome(rec *verigate.WebhookRecord, ep *verigate.WebhookEndpoint, m *verigate.WebhookMessage, at time.Time, res webhook.Result) (stop bool) {
	a := verigate.WebhookAttempt{MessageID: m.ID, EndpointID: ep.ID, N: m.Attempts + 1, At: at, Trigger: m.Trigger,
		StatusCode: res.Status, Latency: res.Latency, Response: truncate(res.Body, webhook.MaxResponseBody)}
	if res.Err != nil {
		a.Error = res.Err.Error()
	}
	r := verigate.WebhookAttemptResult{Failures: m.Failures}
	switch {
	case res.OK():
		r.Status, r.Failures = verigate.MessageDelivered, 0
		rec.Succeeded = true
	case res.Abort && res.Status != 410:
		// The receiver asked for no more attempts of this message: it
		// ends here, and the batch goes on.
		r.Status = verigate.MessageAborted
	default:
		r.Failures++
		rec.Failed, stop = true, true
		if delay, ok := webhook.Retry(r.Failures, w.opts.Jitter()); ok {
			if (res.Status == 429 || res.Status == 503) && res.RetryAfter > delay {
				delay = min(res.RetryAfter, maxRetryAfter)
			}
			r.Status, a.NextAttemptAt = verigate.MessagePending, at.Add(delay)
		} else {
			r.Status = verigate.MessageFailed
		}
		switch {
		case res.Status == 410:
			rec.Disable = "the endpoint answered 410 Gone"
		case !ep.FailingSince.IsZero() && at.Sub(ep.FailingSince) >= FailingLimit && !rec.Succeeded:
			rec.Disable = "the endpoint has failed every attempt for 5 days"
		}
		if rec.Disable != "" {
			rec.Events = append(rec.Events, verigate.NewEndpointDisabled(ep, rec.Disable, at))
		}
	}
	r.Attempt = a
	rec.Attempts = append(rec.Attempts, r)
	return stop
}

// pace waits until an endpoint with a rate limit may get its next attempt.
func (w *Worker) pace(ctx context.Context, ep *verigate.WebhookEndpoint) {
	if ep.RateLimit <= 0 {
		return
	}
	interval := time.Second / time.Duration(ep.RateLimit)
	w.mu.Lock()
	now := time.Now()
	next := w.paced[ep.ID].Add(interval)
	if next.Before(now) {
		next = now
	}
	w.paced[ep.ID] = next
	w.mu.Unlock()
	if d := next.Sub(now); d > 0 {
		w.opts.Sleep(ctx, d)
	}
}

// Prune deletes events older than retention with their messages and
// attempts; it returns how many events it deleted.
func (w *Worker) Prune(ctx context.Context, retention time.Duration) (int, error) {
	return w.s.store.PruneEvents(ctx, w.s.now().Add(-retention))
}

// Stats measures the delivery queue, for metrics.
func (w *Worker) Stats(ctx context.Context) (verigate.WebhookQueueStats, error) {
	return w.s.store.WebhookQueueStats(ctx)
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
