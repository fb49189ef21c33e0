package verification

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/idempotency"
)

// Connections is what the engine needs of the connections core
// (internal/connect implements it) to carry out connector steps. Each
// call acts as the step's applicant: the principal in ctx.
type Connections interface {
	// OpenForStep opens the connection of a step on hold, runs record (the
	// step taking it), then starts its login; it fails the connection if
	// record fails.
	OpenForStep(ctx context.Context, sessionID, stepID, sourceID int64, creds map[string]string, record func(accountID string) error) (*verigate.Connection, error)
	// SubmitCode gives the connection's waiting login a code (rate-limited
	// per connection, whoever submits it).
	SubmitCode(ctx context.Context, accountID, code string) error
	// Status returns a connection and its pending request (nil when none).
	Status(ctx context.Context, accountID string) (*verigate.Connection, *verigate.AssistanceRequest, error)
}

// ConnectStep connects the applicant's initiated connector step with a
// login form's credentials: it opens the connection that carries the
// step out and moves the step to IN_PROGRESS, recording it. The step
// completes (or fails) when the connection connects (or fails).
func (s *Service) ConnectStep(ctx context.Context, stepID int64, creds map[string]string) (*verigate.Step, string, error) {
	if stepID <= 0 {
		return nil, "", verigate.FieldError("stepId", "is required")
	}
	if err := verigate.ValidateCredentials(creds); err != nil {
		return nil, "", err
	}
	st, sess, err := s.step(ctx, "verifications.update", stepID)
	if err != nil {
		return nil, "", err
	}
	if !sessionOpen(sess, s.now()) {
		return nil, "", verigate.Errorf(verigate.ECONFLICT, "The session is %s.", sess.Status)
	}
	if st.Type != verigate.SourceConnector {
		return nil, "", verigate.Errorf(verigate.EINVALID, "Step %d is a reclaim step; submit proofs for it.", st.ID)
	}
	if st.Status != verigate.StepInitiated {
		return nil, "", verigate.Errorf(verigate.ECONFLICT, "Step %d is %s; initiate it before connecting.", st.ID, st.Status)
	}
	c, err := s.conns.OpenForStep(ctx, sess.ID, st.ID, st.DataSourceID, creds, func(accountID string) error {
		return s.startConnect(ctx, st, sess, accountID)
	})
	if err != nil {
		return nil, "", err
	}
	return st, c.ID, nil
}

// startConnect moves a connector step to IN_PROGRESS and records the
// connection carrying it out, in one write.
func (s *Service) startConnect(ctx context.Context, st *verigate.Step, sess *verigate.Session, accountID string) error {
	now := s.now()
	ch := verigate.SessionChange{Session: sess}
	if err := moveStep(&ch, st, verigate.StepInProgress, now); err != nil {
		return err
	}
	var meta map[string]any
	json.Unmarshal(st.Metadata, &meta)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["accountId"] = accountID
	st.Metadata, _ = json.Marshal(meta)
	st.UpdatedAt, sess.UpdatedAt = now, now
	return s.store.ApplySessionChange(ctx, ch)
}

// SubmitStepCode gives the login of the applicant's connector step a
// one-time code.
func (s *Service) SubmitStepCode(ctx context.Context, stepID int64, code string) error {
	if stepID <= 0 {
		return verigate.FieldError("stepId", "is required")
	}
	if err := verigate.ValidateCode(code); err != nil {
		return err
	}
	st, _, err := s.step(ctx, "verifications.update", stepID)
	if err != nil {
		return err
	}
	account := StepAccount(st)
	if account == "" {
		return verigate.Errorf(verigate.ECONFLICT, "Step %d has no connection; connect it first.", st.ID)
	}
	return s.conns.SubmitCode(ctx, account, code)
}

// StepLogin is the live state of a connector step's connection.
type StepLogin struct {
	Connection *verigate.Connection
	Pending    *verigate.AssistanceRequest // nil when it waits for no code
}

// stepLogin returns the state of the connection of st; nil before the
// step has one.
func (s *Service) stepLogin(ctx context.Context, st *verigate.Step) (*StepLogin, error) {
	account := StepAccount(st)
	if account == "" {
		return nil, nil
	}
	c, r, err := s.conns.Status(ctx, account)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &StepLogin{Connection: c, Pending: r}, nil
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

// Jobs is the engine's background work: expiring sessions, purging spent
// tokens, and ending connector steps as their connections end. It acts
// as the system; only the app holds it (surfaces get the Service).
type Jobs struct{ s *Service }

// NewJobs returns the background work of s.
func NewJobs(s *Service) *Jobs { return &Jobs{s: s} }

func system(ctx context.Context) context.Context { return verigate.WithPrincipal(ctx, verigate.System) }

// StepRecords tells whether connector step stepID records accountID as
// the connection carrying it out.
func (j *Jobs) StepRecords(ctx context.Context, stepID int64, accountID string) (bool, error) {
	st, err := j.s.store.GetStep(ctx, stepID)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return StepAccount(st) == accountID, nil
}

// ConnectionEnded ends the connector step of connection c when it
// connects (COMPLETED, with the fetched data as results) or fails
// (FAILED), and settles the session. A connection the step does not name
// (one whose step was never moved, or moved on) ends nothing.
func (j *Jobs) ConnectionEnded(ctx context.Context, c *verigate.Connection) error {
	if c.StepID == nil {
		return nil
	}
	var err error
	for range 3 { // a concurrent change of the session: read again and retry
		if err = j.s.endConnectorStep(system(ctx), *c.StepID, c); verigate.ErrorCode(err) != verigate.ECONFLICT {
			return err
		}
	}
	return err
}

func (s *Service) endConnectorStep(ctx context.Context, stepID int64, c *verigate.Connection) error {
	st, err := s.store.GetStep(ctx, stepID)
	if err != nil {
		return err
	}
	sess, err := s.store.GetSession(ctx, st.SessionID)
	if err != nil {
		return err
	}
	if st.Status.Ended() || sess.Status.Ended() {
		return nil // expired or decided meanwhile
	}
	if StepAccount(st) != c.ID {
		return nil
	}
	if c.Status != verigate.ConnConnected {
		_, _, err := s.failStep(ctx, sess, st, "connection failed: "+c.FailureReason)
		if verigate.ErrorCode(err) == verigate.EINVALID {
			return nil // failStep reports the failure as its error
		}
		return err
	}
	ch := verigate.SessionChange{Session: sess,
		Audit: []verigate.AuditEvent{s.audit(ctx, "step.complete", "step", fmt.Sprint(st.ID), sess.OrgID)}}
	if err := moveStep(&ch, st, verigate.StepCompleted, s.now()); err != nil {
		return err
	}
	st.Results, _ = json.Marshal(map[string]any{"accountId": c.ID, "data": json.RawMessage(orEmpty(c.Data))})
	st.UpdatedAt = s.now()
	if err := s.settle(ctx, &ch, st); err != nil {
		return err
	}
	return s.store.ApplySessionChange(ctx, ch)
}

// ExpireDue moves open sessions past their expiry date, and their open
// steps, to EXPIRED; see Service.expireDue.
func (j *Jobs) ExpireDue(ctx context.Context) (int, error) { return j.s.expireDue(system(ctx)) }

// Purge deletes expired applicant tokens and idempotency keys.
func (j *Jobs) Purge(ctx context.Context) error {
	now := j.s.now()
	return j.s.store.PurgeExpired(ctx, now, now.Add(-idempotency.TTL))
}
