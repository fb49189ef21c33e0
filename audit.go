package verigate

import (
	"context"
	"time"
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// AuditEvent records one change: who, what, on what, when, and how it
// ended. Stores write it in the same transaction as the change itself.
type AuditEvent struct {
	ID          int64          `json:"id"`
	At          time.Time      `json:"at"`
	ActorKind   PrincipalKind  `json:"actorKind"`
	ActorID     string         `json:"actorId"`
	RequestedBy string         `json:"requestedBy,omitempty"`
	Action      string         `json:"action"`
	TargetKind  string         `json:"targetKind"`
	TargetID    string         `json:"targetId"`
	OrgID       string         `json:"organizationId,omitempty"`
	RequestID   string         `json:"requestId,omitempty"`
	Outcome     string         `json:"outcome"`
	Details     map[string]any `json:"details,omitempty"`
}

// NewAuditEvent fills an event's actor and request id from ctx.
func NewAuditEvent(ctx context.Context, at time.Time, action, targetKind, targetID, orgID string) AuditEvent {
	ev := AuditEvent{At: at, Action: action, TargetKind: targetKind, TargetID: targetID, OrgID: orgID,
		RequestID: RequestIDFrom(ctx), Outcome: OutcomeSuccess}
	if p := PrincipalFrom(ctx); p != nil {
		ev.ActorKind, ev.ActorID, ev.RequestedBy = p.Kind, p.ID, p.RequestedBy
		if p.Kind == PrincipalUser && p.UserID != "" {
			ev.ActorID = p.UserID // a person's session acts as the person
		}
	} else {
		ev.ActorKind, ev.ActorID = PrincipalSystem, "anonymous"
	}
	return ev
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	OrgID    string
	Action   string
	TargetID string
	// ActorID matches the actor's id or the person it acted for
	// (RequestedBy).
	ActorID string
	Since   time.Time // at or after; zero: no bound
	Until   time.Time // before; zero: no bound
	// Before is a cursor: only events with a smaller id (the last id of
	// the previous page).
	Before int64
	Limit  int
}
