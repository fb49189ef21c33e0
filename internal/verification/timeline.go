package verification

import (
	"context"
	"encoding/json"
	"time"

	"github.com/verigate/verigate"
)

// A verification's timeline is read from its own events (the outbox:
// verification.* and step.updated about it), which record every status
// change of the session and its steps with its time. The outbox keeps
// events for its retention only: when the creation event is gone, the
// session's own creation time stands in for it, so a timeline always ends
// with how it began.

// MaxTimeline bounds a timeline (most recent entries kept).
const MaxTimeline = 200

// TimelineEntry is one thing that happened to a verification.
type TimelineEntry struct {
	EventID int64 // 0 for the stand-in creation entry
	Type    verigate.EventType
	At      time.Time
	Status  verigate.SessionStatus
	// A step event's step, its status and source.
	StepID     int64
	StepStatus verigate.StepStatus
	SourceID   int64
	Reason     string // a failed step's or a reviewer's reason
}

// Timeline returns a verification's timeline, most recent first.
func (s *Service) Timeline(ctx context.Context, id int64) ([]TimelineEntry, error) {
	sess, err := s.session(ctx, "verifications.read", id, wholeSession)
	if err != nil {
		return nil, err
	}
	return s.timeline(ctx, sess)
}

func (s *Service) timeline(ctx context.Context, sess *verigate.Session) ([]TimelineEntry, error) {
	events, err := s.store.SessionEvents(ctx, sess.OrgID, sess.ID, MaxTimeline)
	if err != nil {
		return nil, err
	}
	out := make([]TimelineEntry, 0, len(events)+1)
	created := false
	for _, e := range events {
		if e.Mode != sess.Mode {
			continue
		}
		var p struct {
			Status     verigate.SessionStatus `json:"status"`
			StepID     int64                  `json:"stepId"`
			StepStatus verigate.StepStatus    `json:"stepStatus"`
			SourceID   int64                  `json:"sourceId"`
			Reason     string                 `json:"reason"`
		}
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			continue // not a session event's payload: not of the timeline
		}
		created = created || e.Type == verigate.EventVerificationCreated
		out = append(out, TimelineEntry{EventID: e.ID, Type: e.Type, At: e.CreatedAt, Status: p.Status,
			StepID: p.StepID, StepStatus: p.StepStatus, SourceID: p.SourceID, Reason: p.Reason})
	}
	if !created && len(out) < MaxTimeline {
		out = append(out, TimelineEntry{Type: verigate.EventVerificationCreated, At: sess.CreatedAt,
			Status: verigate.SessionPending})
	}
	return out, nil
}
