package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/verigate/verigate"
)

// Steps is the verification engine's side of the connections that carry
// out its connector steps (internal/verification implements it).
type Steps interface {
	// StepRecords tells whether step stepID records accountID as its
	// connection; one it does not (its request died before the step moved)
	// fails instead of logging in for nothing.
	StepRecords(ctx context.Context, stepID int64, accountID string) (bool, error)
	// ConnectionEnded ends the step of c, which connected or failed.
	ConnectionEnded(ctx context.Context, c *verigate.Connection) error
}

// Worker drives logins in the background, and tells the verification
// engine when a step's connection ends. Only the app runs it: surfaces
// hold the Service, never the Worker.
type Worker struct {
	s     *Service
	steps Steps
	log   *slog.Logger
}

// NewWorker returns the worker of s, reporting to steps.
func NewWorker(s *Service, steps Steps) *Worker { return &Worker{s: s, steps: steps, log: s.log} }

// Run works until ctx ends: whenever woken (a new connection, a submitted
// code) and at least every poll interval (slow logins, expiries, other
// replicas' leases).
func (w *Worker) Run(ctx context.Context, poll time.Duration) {
	s := w.s
	wake, cancel := s.broker.Subscribe(WorkerTopic)
	defer cancel()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := w.Work(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("connection worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// Work expires overdue assistance requests and runs every due login step;
// it returns how many connections it acted on.
func (w *Worker) Work(ctx context.Context) (int, error) {
	s := w.s
	if err := w.expireRequests(ctx); err != nil {
		return 0, err
	}
	due, err := s.store.DueConnections(ctx, s.now(), 50)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range due {
		switch err := w.step(ctx, c); verigate.ErrorCode(err) {
		case "":
			n++
		case verigate.ECONFLICT: // another worker has it
		default:
			return n, err
		}
	}
	return n, nil
}

// step claims a due connection with a lease and runs one connector step.
// Should the process die mid-step, the lease runs out and the step is run
// again (a submitted code stays on its request until delivered).
func (w *Worker) step(ctx context.Context, c *verigate.Connection) error {
	s := w.s
	now := s.now()
	lease := now.Add(Lease)
	c.LeaseUntil, c.UpdatedAt = &lease, now
	if err := s.store.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c}); err != nil {
		return err
	}
	name, err := s.sourceName(ctx, c.SourceID)
	if err != nil {
		return err
	}
	conn := s.connectors[name] // nil for a source removed since, too
	// A bank call must end well within the lease, or a second worker would
	// take the connection and deliver the same code twice.
	cctx, cancel := context.WithTimeout(ctx, Lease-5*time.Second)
	defer cancel()
	plain, err := s.seal.Open(c.ID, c.Credentials)
	var creds Credentials
	if err == nil {
		err = json.Unmarshal(plain, &creds)
	}
	if conn == nil || err != nil {
		return w.apply(ctx, c, nil, Outcome{Kind: failedToRun, Reason: "this server cannot run the login (no connector, or unreadable credentials)"})
	}
	var req *verigate.AssistanceRequest
	var out Outcome
	switch c.Status {
	case verigate.ConnQueued:
		if c.StepID != nil {
			if ok, err := w.steps.StepRecords(ctx, *c.StepID, c.ID); err != nil {
				return err
			} else if !ok {
				return w.apply(ctx, c, nil, Outcome{Kind: failedToRun, Reason: "its verification step never recorded it"})
			}
		}
		out = conn.Start(cctx, creds)
	case verigate.ConnRunning:
		out = conn.Resume(cctx, creds, c.ConnectorState)
	case verigate.ConnAwaiting:
		req, err = s.store.PendingRequest(ctx, c.ID)
		if err != nil || req.Code == nil { // nothing to deliver: wait
			c.NextRunAt, c.LeaseUntil = nil, nil
			return s.store.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c})
		}
		code, err := s.seal.Open(c.ID, req.Code)
		if err != nil {
			return w.apply(ctx, c, req, Outcome{Kind: failedToRun, Reason: "the submitted code could not be read"})
		}
		out = conn.Submit(cctx, creds, c.ConnectorState, string(code))
	default:
		c.NextRunAt, c.LeaseUntil = nil, nil
		return s.store.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c})
	}
	return w.apply(ctx, c, req, out)
}

// apply records a connector step's outcome: the connection's new status,
// the assistance requests it fulfils, refuses or opens, the stream events
// and the outbox events, all in one transaction.
func (w *Worker) apply(ctx context.Context, c *verigate.Connection, req *verigate.AssistanceRequest, out Outcome) error {
	s := w.s
	now := s.now()
	from := c.Status
	ch := verigate.ConnectionChange{Connection: c}
	stream := func(typ string, data map[string]any) {
		b, _ := json.Marshal(data)
		ch.Stream = append(ch.Stream, verigate.ConnectionEvent{ConnectionID: c.ID, Type: typ, Data: b, CreatedAt: now})
	}
	resolve := func(status verigate.AssistStatus) {
		if req == nil || !req.Status.CanBecome(status) {
			return
		}
		req.Status, req.Code, req.ResolvedAt = status, nil, &now
		ch.Request = req
		if status == verigate.AssistFulfilled {
			stream("assistance_fulfilled", map[string]any{"request_id": req.ID, "attempts": req.Attempts})
		}
		ch.Events = append(ch.Events, verigate.NewAssistanceEvent(c, req, now))
	}
	fail := func(kind verigate.FailureKind, reason string) {
		c.Status, c.FailureReason = verigate.ConnFailed, reason
		stream("connection_failed", map[string]any{"account_id": c.ID, "reason": reason})
		ch.Events = append(ch.Events, verigate.NewConnectionFailed(c, kind, now))
	}
	if out.State != nil {
		c.ConnectorState = out.State
	}
	c.LeaseUntil, c.NextRunAt, c.UpdatedAt = nil, nil, now
	switch out.Kind {
	case Connected:
		resolve(verigate.AssistFulfilled)
		c.Status, c.ConnectedAt, c.FailureReason = verigate.ConnConnected, &now, ""
		c.Data, _ = json.Marshal(out.Data)
		stream("connected", map[string]any{"account_id": c.ID})
		ch.Events = append(ch.Events, verigate.NewConnectionConnected(c, now))
	case Failed, failedToRun:
		if req == nil { // a pending request must not outlive its login
			if pending, err := s.store.PendingRequest(ctx, c.ID); err == nil {
				req = pending
			}
		}
		resolve(verigate.AssistCancelled)
		kind := verigate.FailureLogin
		if out.Kind == failedToRun {
			kind = verigate.FailureScrape
		}
		fail(kind, out.Reason)
	case FetchFailed: // the login, and any code it took, succeeded
		resolve(verigate.AssistFulfilled)
		fail(verigate.FailureScrape, out.Reason)
	case NeedCode:
		resolve(verigate.AssistFulfilled)
		c.Status = verigate.ConnAwaiting
		r := &verigate.AssistanceRequest{ID: newRequestID(), ConnectionID: c.ID, Type: "otp", Descriptor: out.Descriptor,
			Status: verigate.AssistPending, CreatedAt: now, ExpiresAt: now.Add(AssistanceTTL)}
		ch.NewRequest = r
		stream("assistance_required", map[string]any{"request_id": r.ID, "type": r.Type, "descriptor": r.Descriptor, "attempts": 0})
		ch.Events = append(ch.Events, verigate.NewAssistanceEvent(c, r, now))
	case WrongCode:
		if req == nil {
			fail(verigate.FailureScrape, "a code was refused but none was pending")
			break
		}
		req.Attempts++
		req.Code = nil
		ch.Request = req
		if req.Attempts >= MaxAttempts {
			resolve(verigate.AssistCancelled)
			fail(verigate.FailureLogin, fmt.Sprintf("%d wrong codes", req.Attempts))
		}
	case Working:
		next := now.Add(out.After)
		c.Status, c.NextRunAt = verigate.ConnRunning, &next
	default:
		fail(verigate.FailureScrape, "the connector gave no outcome")
	}
	if c.Status != from && !from.CanBecome(c.Status) {
		return fmt.Errorf("connection %s: a connector step moved it from %s to %s", c.ID, from, c.Status)
	}
	if err := s.store.ApplyConnectionChange(ctx, ch); err != nil {
		return err
	}
	s.broker.Publish(ctx, "conn:"+c.ID)
	if c.Status == verigate.ConnConnected || c.Status == verigate.ConnFailed {
		w.stepEnded(ctx, c)
	}
	return nil
}

// expireRequests ends pending requests past their time: the request
// expires and the login fails.
func (w *Worker) expireRequests(ctx context.Context) error {
	s := w.s
	reqs, err := s.store.ExpiredRequests(ctx, s.now(), 50)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		c, err := s.store.GetConnection(ctx, r.ConnectionID)
		if err != nil {
			return err
		}
		now := s.now()
		r.Status, r.Code, r.ResolvedAt = verigate.AssistExpired, nil, &now
		ch := verigate.ConnectionChange{Connection: c, Request: r}
		ev := func(typ string, data map[string]any) verigate.ConnectionEvent {
			b, _ := json.Marshal(data)
			return verigate.ConnectionEvent{ConnectionID: c.ID, Type: typ, Data: b, CreatedAt: now}
		}
		reason := "no code arrived within " + AssistanceTTL.String()
		ch.Stream = []verigate.ConnectionEvent{ev("assistance_expired", map[string]any{"request_id": r.ID}),
			ev("connection_failed", map[string]any{"account_id": c.ID, "reason": reason})}
		c.Status, c.FailureReason, c.NextRunAt, c.LeaseUntil, c.UpdatedAt = verigate.ConnFailed, reason, nil, nil, now
		// The applicant never gave the code: the login was not completed.
		ch.Events = []verigate.OutboxEvent{verigate.NewAssistanceEvent(c, r, now), verigate.NewConnectionFailed(c, verigate.FailureLogin, now)}
		switch err := s.store.ApplyConnectionChange(ctx, ch); verigate.ErrorCode(err) {
		case "":
		case verigate.ECONFLICT: // moved on meanwhile
			continue
		default:
			return err
		}
		s.broker.Publish(ctx, "conn:"+c.ID)
		w.stepEnded(ctx, c)
	}
	return nil
}

// stepEnded tells the verification engine that the connection of a step
// connected or failed. The step's end must not be lost to a shutdown
// cancelling ctx; a failure to record it is logged, and the connection's
// own end stands.
func (w *Worker) stepEnded(ctx context.Context, c *verigate.Connection) {
	if c.StepID == nil {
		return
	}
	if err := w.steps.ConnectionEnded(context.WithoutCancel(ctx), c); err != nil {
		w.log.Error("end connector step", "err", err, "step", *c.StepID, "connection", c.ID)
	}
}

// failedToRun is the outcome of a login this server could not run or
// carry on (no connector, unreadable credentials or code): a failure, but
// not the bank's refusal of the login.
const failedToRun OutcomeKind = -1
