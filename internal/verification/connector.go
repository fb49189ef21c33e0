package verification

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/verigate/verigate"
)

// ConnectStep checks a connector step can be connected (the applicant's,
// a connector source, INITIATED, its session open). It writes nothing:
// StartConnect moves the step once its connection exists.
func (s *Service) ConnectStep(ctx context.Context, stepID int64) (*verigate.Step, *verigate.Session, error) {
	st, sess, err := s.applicantStep(ctx, stepID)
	if err != nil {
		return nil, nil, err
	}
	if !sessionOpen(sess, s.now()) {
		return nil, nil, verigate.Errorf(verigate.ECONFLICT, "The session is %s.", sess.Status)
	}
	if st.Type != verigate.SourceConnector {
		return nil, nil, verigate.Errorf(verigate.EINVALID, "Step %d is a reclaim step; submit proofs for it.", st.ID)
	}
	if st.Status != verigate.StepInitiated {
		return nil, nil, verigate.Errorf(verigate.ECONFLICT, "Step %d is %s; initiate it before connecting.", st.ID, st.Status)
	}
	return st, sess, nil
}

// StartConnect moves a connector step to IN_PROGRESS and records the
// connection carrying it out, in one write.
func (s *Service) StartConnect(ctx context.Context, st *verigate.Step, sess *verigate.Session, accountID string) error {
	u, err := moveStep(st, verigate.StepInProgress)
	if err != nil {
		return err
	}
	var meta map[string]any
	json.Unmarshal(st.Metadata, &meta)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["accountId"] = accountID
	st.Metadata, _ = json.Marshal(meta)
	now := s.now()
	st.UpdatedAt, sess.UpdatedAt = now, now
	return s.store.ApplySessionChange(ctx, verigate.SessionChange{Session: sess, Steps: []verigate.StepUpdate{u}})
}

// StepRecords tells whether connector step stepID records accountID as
// the connection carrying it out.
func (s *Service) StepRecords(ctx context.Context, stepID int64, accountID string) (bool, error) {
	st, err := s.store.GetStep(ctx, stepID)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return StepAccount(st) == accountID, nil
}

// StepAccount is the connection a connector step records (its metadata's
// accountId); "" before it has one.
func StepAccount(st *verigate.Step) string {
	var meta struct {
		AccountID string `json:"accountId"`
	}
	json.Unmarshal(st.Metadata, &meta)
	return meta.AccountID
}

// EndConnectorStep ends a connector step when its connection connects
// (COMPLETED, with the fetched data as results) or fails (FAILED), and
// settles the session. A connection the step does not name (one whose
// step was never moved, or moved on) ends nothing.
func (s *Service) EndConnectorStep(ctx context.Context, stepID int64, accountID string, connected bool, data json.RawMessage, reason string) error {
	var err error
	for range 3 { // a concurrent change of the session: read again and retry
		if err = s.endConnectorStep(ctx, stepID, accountID, connected, data, reason); verigate.ErrorCode(err) != verigate.ECONFLICT {
			return err
		}
	}
	return err
}

func (s *Service) endConnectorStep(ctx context.Context, stepID int64, accountID string, connected bool, data json.RawMessage, reason string) error {
	st, err := s.store.GetStep(ctx, stepID)
	if err != nil {
		return err
	}
	sess, err := s.store.GetSession(ctx, st.SessionID)
	if err != nil {
		return err
	}
	if verigate.StepEnded(st.Status) || verigate.SessionEnded(sess.Status) {
		return nil // expired or decided meanwhile
	}
	if StepAccount(st) != accountID {
		return nil
	}
	sys := verigate.WithPrincipal(ctx, verigate.System)
	if !connected {
		_, _, err := s.failStep(sys, sess, st, "connection failed: "+reason)
		if verigate.ErrorCode(err) == verigate.EINVALID {
			return nil // failStep reports the failure as its error
		}
		return err
	}
	u, err := moveStep(st, verigate.StepCompleted)
	if err != nil {
		return err
	}
	st.Results, _ = json.Marshal(map[string]any{"accountId": accountID, "data": json.RawMessage(orEmpty(data))})
	st.UpdatedAt = s.now()
	ch := verigate.SessionChange{Session: sess, Steps: []verigate.StepUpdate{u},
		Events: []verigate.Event{s.event(sess, "step.completed", map[string]any{"stepId": st.ID})},
		Audit:  []verigate.AuditEvent{s.audit(sys, "step.complete", "step", fmt.Sprint(st.ID), sess.OrgID)}}
	if err := s.settle(ctx, &ch, st); err != nil {
		return err
	}
	return s.store.ApplySessionChange(ctx, ch)
}
