package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/verigate/verigate"
)

// Run works until ctx ends: whenever woken (a new connection, a submitted
// code) and at least every poll interval (slow logins, expiries, other
// replicas' leases).
func (s *Service) Run(ctx context.Context, poll time.Duration, log *slog.Logger) {
	wake, cancel := s.broker.Subscribe(WorkerTopic)
	defer cancel()
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := s.Work(ctx); err != nil && ctx.Err() == nil {
			log.Error("connection worker", "err", err)
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
func (s *Service) Work(ctx context.Context) (int, error) {
	if err := s.expireRequests(ctx); err != nil {
		return 0, err
	}
	due, err := s.store.DueConnections(ctx, s.now(), 50)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range due {
		switch err := s.step(ctx, c); verigate.ErrorCode(err) {
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
func (s *Service) step(ctx context.Context, c *verigate.Connection) error {
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
		return s.apply(ctx, c, nil, Outcome{Kind: Failed, Reason: "this server cannot run the login (no connector, or unreadable credentials)"})
	}
	var req *verigate.AssistanceRequest
	var out Outcome
	switch c.Status {
	case verigate.ConnQueued:
		if c.StepID != nil && s.StepRecords != nil {
			if ok, err := s.StepRecords(ctx, c); err != nil {
				return err
			} else if !ok {
				return s.apply(ctx, c, nil, Outcome{Kind: Failed, Reason: "its verification step never recorded it"})
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
			return s.apply(ctx, c, req, Outcome{Kind: Failed, Reason: "the submitted code could not be read"})
		}
		out = conn.Submit(cctx, creds, c.ConnectorState, string(code))
	default:
		c.NextRunAt, c.LeaseUntil = nil, nil
		return s.store.ApplyConnectionChange(ctx, verigate.ConnectionChange{Connection: c})
	}
	return s.apply(ctx, c, req, out)
}

// apply records a connector step's outcome: the connection's new status,
// the assistance requests it fulfils, refuses or opens, the stream events
// and the outbox events, all in one transaction.
func (s *Service) apply(ctx context.Context, c *verigate.Connection, req *verigate.AssistanceRequest, out Outcome) error {
	now := s.now()
	ch := verigate.ConnectionChange{Connection: c}
	stream := func(typ string, data map[string]any) {
		b, _ := json.Marshal(data)
		ch.Stream = append(ch.Stream, verigate.ConnectionEvent{ConnectionID: c.ID, Type: typ, Data: b, CreatedAt: now})
	}
	outbox := func(typ string, data map[string]any) {
		data["account_id"] = c.ID
		b, _ := json.Marshal(data)
		ch.Events = append(ch.Events, verigate.Event{OrgID: c.OrgID, Mode: c.Mode, Type: typ, Subject: c.ID, Payload: b, CreatedAt: now})
	}
	resolve := func(status string) {
		if req == nil {
			return
		}
		req.Status, req.Code, req.ResolvedAt = status, nil, &now
		ch.Request = req
		if status == verigate.AssistFulfilled {
			stream("assistance_fulfilled", map[string]any{"request_id": req.ID, "attempts": req.Attempts})
		}
		outbox("assistance.resolved", map[string]any{"request_id": req.ID, "status": status})
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
		outbox("connection.connected", map[string]any{})
	case Failed:
		if req == nil { // a pending request must not outlive its login
			if pending, err := s.store.PendingRequest(ctx, c.ID); err == nil {
				req = pending
			}
		}
		resolve(verigate.AssistCancelled)
		s.fail(c, out.Reason, stream, outbox)
	case NeedCode:
		resolve(verigate.AssistFulfilled)
		c.Status = verigate.ConnAwaiting
		r := &verigate.AssistanceRequest{ID: newRequestID(), ConnectionID: c.ID, Type: "otp", Descriptor: out.Descriptor,
			Status: verigate.AssistPending, CreatedAt: now, ExpiresAt: now.Add(AssistanceTTL)}
		ch.NewRequest = r
		stream("assistance_required", map[string]any{"request_id": r.ID, "type": r.Type, "descriptor": r.Descriptor, "attempts": 0})
		outbox("assistance.required", map[string]any{"request_id": r.ID, "type": r.Type, "descriptor": r.Descriptor})
	case WrongCode:
		if req == nil {
			s.fail(c, "a code was refused but none was pending", stream, outbox)
			break
		}
		req.Attempts++
		req.Code = nil
		ch.Request = req
		if req.Attempts >= MaxAttempts {
			resolve(verigate.AssistCancelled)
			s.fail(c, fmt.Sprintf("%d wrong codes", req.Attempts), stream, outbox)
		}
	case Working:
		next := now.Add(out.After)
		c.Status, c.NextRunAt = verigate.ConnRunning, &next
	default:
		s.fail(c, "the connector gave no outcome", stream, outbox)
	}
	if err := s.store.ApplyConnectionChange(ctx, ch); err != nil {
		return err
	}
	s.broker.Publish(ctx, "conn:"+c.ID)
	if (c.Status == verigate.ConnConnected || c.Status == verigate.ConnFailed) && c.StepID != nil && s.OnEnded != nil {
		s.OnEnded(ctx, c)
	}
	return nil
}

func (s *Service) fail(c *verigate.Connection, reason string, stream, outbox func(string, map[string]any)) {
	c.Status, c.FailureReason = verigate.ConnFailed, reason
	stream("connection_failed", map[string]any{"account_id": c.ID, "reason": reason})
	outbox("connection.failed", map[string]any{"reason": reason})
}

// expireRequests ends pending requests past their time: the request
// expires and the login fails.
func (s *Service) expireRequests(ctx context.Context) error {
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
		payload, _ := json.Marshal(map[string]any{"account_id": c.ID, "request_id": r.ID, "status": r.Status})
		failed, _ := json.Marshal(map[string]any{"account_id": c.ID, "reason": reason})
		ch.Events = []verigate.Event{{OrgID: c.OrgID, Mode: c.Mode, Type: "assistance.resolved", Subject: c.ID, Payload: payload, CreatedAt: now},
			{OrgID: c.OrgID, Mode: c.Mode, Type: "connection.failed", Subject: c.ID, Payload: failed, CreatedAt: now}}
		c.Status, c.FailureReason, c.NextRunAt, c.LeaseUntil, c.UpdatedAt = verigate.ConnFailed, reason, nil, nil, now
		switch err := s.store.ApplyConnectionChange(ctx, ch); verigate.ErrorCode(err) {
		case "":
		case verigate.ECONFLICT: // moved on meanwhile
			continue
		default:
			return err
		}
		s.broker.Publish(ctx, "conn:"+c.ID)
		if c.StepID != nil && s.OnEnded != nil {
			s.OnEnded(ctx, c)
		}
	}
	return nil
}
