package verification

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verigate/verigate"
	"github.com/verigate/verigate/internal/reclaim"
)

// ErrBadLink answers a link token that is unknown, rotated, for another
// session, or whose session has ended.
var ErrBadLink = verigate.Errorf(verigate.EUNAUTHENTICATED, "This verification link is not valid, or its session has ended.")

// sessionOpen reports whether an applicant may still work on a session.
func sessionOpen(sess *verigate.Session, now time.Time) bool {
	return !sess.Status.Ended() && now.Before(sess.ExpiryDate)
}

// OpenLink exchanges a session's link token for an applicant token
// (valid for ApplicantTokenTTL, this session only). The link keeps working until the session ends, so
// an applicant can come back.
func (s *Service) OpenLink(ctx context.Context, token string, sessionID int64) (string, time.Time, *verigate.Session, error) {
	if token == "" || len(token) > 200 {
		return "", time.Time{}, nil, ErrBadLink
	}
	sess, err := s.store.GetSessionByLinkHash(ctx, verigate.HashSecret(token))
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return "", time.Time{}, nil, ErrBadLink
	} else if err != nil {
		return "", time.Time{}, nil, err
	}
	now := s.now()
	if sess.ID != sessionID || !sessionOpen(sess, now) {
		return "", time.Time{}, nil, ErrBadLink
	}
	if active, err := s.store.OrgChainActive(ctx, sess.OrgID); err != nil {
		return "", time.Time{}, nil, err
	} else if !active {
		return "", time.Time{}, nil, ErrBadLink
	}
	applicant := verigate.NewSecret("")
	expires := now.Add(ApplicantTokenTTL)
	// Only while the link is the session's: a renewal in between wins.
	switch err := s.store.CreateCSRFToken(ctx, verigate.HashSecret(applicant), sess.ID, sess.LinkHash, now, expires); verigate.ErrorCode(err) {
	case "":
	case verigate.ENOTFOUND:
		return "", time.Time{}, nil, ErrBadLink
	default:
		return "", time.Time{}, nil, err
	}
	return applicant, expires, sess, nil
}

// The answers to an applicant token that does not authenticate; each
// surface names the token in its own words.
var (
	ErrApplicantTokenMissing = verigate.Errorf(verigate.EUNAUTHENTICATED, "An applicant token is required.")
	ErrApplicantTokenInvalid = verigate.Errorf(verigate.EUNAUTHENTICATED, "Invalid applicant token.")
	ErrApplicantTokenExpired = verigate.Errorf(verigate.EUNAUTHENTICATED, "The applicant token has expired; open the verification link again.")
)

// Applicant authenticates an applicant token and returns the applicant
// principal bound to its session.
func (s *Service) Applicant(ctx context.Context, token string) (*verigate.Principal, error) {
	p, _, err := s.applicant(ctx, token)
	return p, err
}

// applicant is Applicant, with the token's expiry.
func (s *Service) applicant(ctx context.Context, token string) (*verigate.Principal, time.Time, error) {
	if token == "" {
		return nil, time.Time{}, ErrApplicantTokenMissing
	}
	if len(token) > 200 {
		return nil, time.Time{}, ErrApplicantTokenInvalid
	}
	// One query: the token, its session and the session's organization chain.
	t, err := s.store.ApplicantToken(ctx, verigate.HashSecret(token))
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, time.Time{}, ErrApplicantTokenInvalid
	} else if err != nil {
		return nil, time.Time{}, err
	}
	if !s.now().Before(t.Expires) {
		return nil, time.Time{}, ErrApplicantTokenExpired
	}
	if !t.OrgActive {
		return nil, time.Time{}, ErrApplicantTokenInvalid
	}
	return &verigate.Principal{Kind: verigate.PrincipalApplicant, ID: "session:" + sessionIDString(t.SessionID),
		OrgID: t.OrgID, Orgs: []string{t.OrgID}, Mode: t.Mode, SessionID: t.SessionID,
		Permissions: verigate.ApplicantPermissions}, t.Expires, nil
}

// SessionSources lists the sources the applicant may choose from.
func (s *Service) SessionSources(ctx context.Context, sessionID int64) ([]*verigate.DataSource, error) {
	sess, err := s.session(ctx, "verifications.read", sessionID, sessionPart)
	if err != nil {
		return nil, err
	}
	return s.sessionSources(ctx, sess)
}

// SearchSources searches by text the sources a session's applicant may
// choose from: of session sessionID, or when nil the applicant's own.
func (s *Service) SearchSources(ctx context.Context, text string, sessionID *int64) ([]*verigate.DataSource, error) {
	if text == "" {
		return nil, verigate.FieldError("text", "is required")
	}
	if verigate.TooLong(text, 100) {
		return nil, verigate.FieldError("text", "must be at most 100 characters")
	}
	id := own(ctx).Session
	if sessionID != nil {
		id = *sessionID
	}
	sources, err := s.SessionSources(ctx, id)
	if err != nil {
		return nil, err
	}
	return search(sources, text), nil
}

// SourcesByType lists a verification type's sources available to the
// caller's organization (an applicant's: its session's) in its mode.
func (s *Service) SourcesByType(ctx context.Context, typeID int64) ([]*verigate.DataSource, error) {
	p := verigate.PrincipalFrom(ctx)
	if err := p.Authorize("sources.read", own(ctx), nil); err != nil {
		return nil, err
	}
	types, err := s.store.ListVerificationTypes(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(types, func(t verigate.VerificationType) bool { return t.ID == typeID }) {
		return nil, verigate.Errorf(verigate.ENOTFOUND, "Verification type not found")
	}
	avail, err := s.available(ctx, p.OrgID, p.Mode)
	if err != nil {
		return nil, err
	}
	out := []*verigate.DataSource{}
	for _, src := range avail {
		if src.VerificationTypeID == typeID {
			out = append(out, src)
		}
	}
	return out, nil
}

// SelectSources adds a step for each chosen source not already chosen
// (one whose step failed or expired may be chosen again). The first
// choice moves the session from PENDING to PROCESSING.
func (s *Service) SelectSources(ctx context.Context, sessionID int64, sourceIDs []int64) ([]*verigate.Step, error) {
	if len(sourceIDs) == 0 {
		return nil, verigate.FieldError("dataSourceIds", "choose at least one source")
	}
	if len(sourceIDs) > MaxStepsPerSess {
		return nil, verigate.FieldError("dataSourceIds", fmt.Sprintf("at most %d sources", MaxStepsPerSess))
	}
	sess, err := s.session(ctx, "verifications.update", sessionID, sessionPart)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !sessionOpen(sess, now) || sess.Status == verigate.SessionReviewing {
		return nil, verigate.Errorf(verigate.ECONFLICT, "The session is %s; no more sources can be chosen.", sess.Status)
	}
	choice, err := s.sessionSources(ctx, sess)
	if err != nil {
		return nil, err
	}
	steps, err := s.store.ListSteps(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	ch := verigate.SessionChange{Session: sess}
	for i, id := range sourceIDs {
		src := findSource(choice, SourceRef{ID: id})
		if src == nil {
			return nil, verigate.FieldError(fmt.Sprintf("dataSourceIds[%d]", i), "is not a source this session offers")
		}
		taken := slices.ContainsFunc(steps, func(st *verigate.Step) bool {
			return st.DataSourceID == id && st.Status != verigate.StepFailed && st.Status != verigate.StepExpired
		}) || slices.ContainsFunc(ch.NewSteps, func(st *verigate.Step) bool { return st.DataSourceID == id })
		if !taken {
			ch.NewSteps = append(ch.NewSteps, s.newStep(src, now))
		}
		if sess.VerificationTypeID == nil {
			t := src.VerificationTypeID
			sess.VerificationTypeID = &t
		}
	}
	if len(steps)+len(ch.NewSteps) > MaxStepsPerSess {
		return nil, verigate.FieldError("dataSourceIds", fmt.Sprintf("a session has at most %d steps", MaxStepsPerSess))
	}
	if len(ch.NewSteps) == 0 {
		return steps, nil
	}
	if sess.Status == verigate.SessionPending {
		if err := moveSession(sess, verigate.SessionProcessing); err != nil {
			return nil, err
		}
		ch.Events = append(ch.Events, verigate.NewVerificationStatus(sess, now))
	}
	sess.UpdatedAt = now
	ev := s.audit(ctx, "verification.select_sources", "verification", sessionIDString(sess.ID), sess.OrgID)
	ev.Details = map[string]any{"dataSourceIds": sourceIDs}
	ch.Audit = []verigate.AuditEvent{ev}
	if err := s.store.ApplySessionChange(ctx, ch); err != nil {
		return nil, err
	}
	return append(steps, ch.NewSteps...), nil
}

// Steps lists a session's steps.
func (s *Service) Steps(ctx context.Context, sessionID int64) ([]*verigate.Step, error) {
	if _, err := s.session(ctx, "verifications.read", sessionID, sessionPart); err != nil {
		return nil, err
	}
	return s.store.ListSteps(ctx, sessionID)
}

// Step returns one step of a session, with the state of its connection
// when it is a connector step that has one.
func (s *Service) Step(ctx context.Context, stepID int64) (*verigate.Step, *StepLogin, error) {
	st, _, err := s.step(ctx, "verifications.read", stepID)
	if err != nil {
		return nil, nil, err
	}
	login, err := s.stepLogin(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	return st, login, nil
}

// Initiation is what an applicant's app needs to carry a step out.
type Initiation struct {
	RedirectURL string
	FormData    map[string]any
	Metadata    map[string]any
}

// InitiateStep starts (or restarts) a step and returns how to carry it
// out: for a reclaim source, what to request the proof with (provider,
// app id, and the nonce the proof's context must carry); for a connector,
// the fields of its login form.
func (s *Service) InitiateStep(ctx context.Context, stepID int64) (*Initiation, *verigate.Step, error) {
	st, sess, err := s.step(ctx, "verifications.update", stepID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if !sessionOpen(sess, now) {
		return nil, nil, verigate.Errorf(verigate.ECONFLICT, "The session is %s.", sess.Status)
	}
	src, err := s.sourceByID(ctx, st.DataSourceID)
	if err != nil {
		return nil, nil, err
	}
	ch := verigate.SessionChange{Session: sess}
	if err := moveStep(&ch, st, verigate.StepInitiated, now); err != nil {
		return nil, nil, err
	}
	in := &Initiation{Metadata: map[string]any{"kind": src.Kind, "sourceName": src.SourceName, "stepId": st.ID, "sessionId": sess.ID}}
	if src.Kind == verigate.SourceReclaim {
		ctxJSON, _ := json.Marshal(map[string]string{"contextAddress": "0x0", "contextMessage": st.Nonce})
		in.RedirectURL = s.cfg.PublicURL + "/journey/steps/" + fmt.Sprint(st.ID) + "/reclaim"
		in.FormData = map[string]any{"providerId": src.ProviderID, "appId": s.cfg.ReclaimAppID, "nonce": st.Nonce,
			"context": string(ctxJSON), "callbackUrl": s.cfg.PublicURL + "/partner/step/submit"}
		in.Metadata["loginFlow"] = src.LoginFlow
		if sess.Mode == verigate.ModeTest {
			in.Metadata["sandboxAttestor"] = s.SandboxAttestor()
		}
	} else {
		in.RedirectURL = s.cfg.PublicURL + "/journey/steps/" + fmt.Sprint(st.ID) + "/connect"
		in.FormData = map[string]any{"username": "", "password": ""}
		in.Metadata["fields"] = []map[string]string{
			{"name": "username", "label": "Username", "type": "text"},
			{"name": "password", "label": "Password", "type": "password"},
		}
	}
	meta, _ := json.Marshal(in.Metadata)
	st.Metadata, st.UpdatedAt, sess.UpdatedAt = meta, now, now
	if err := s.store.ApplySessionChange(ctx, ch); err != nil {
		return nil, nil, err
	}
	return in, st, nil
}

func (s *Service) sourceByID(ctx context.Context, id int64) (*verigate.DataSource, error) {
	src, err := s.store.GetSource(ctx, id)
	if verigate.ErrorCode(err) == verigate.ENOTFOUND {
		return nil, verigate.Errorf(verigate.ENOTFOUND, "Data source %d not found.", id)
	}
	return src, err
}

// MaxProofs bounds the proofs of one submission.
const MaxProofs = 10

// SubmitProofs verifies a step's Reclaim proofs. On success the step is
// VERIFIED with the proven data as results, and the session settles once
// every step has ended. A proof that fails verification fails the step
// (EINVALID with the reason); input that is not a proof at all leaves the
// step as it was (EINVALID).
func (s *Service) SubmitProofs(ctx context.Context, stepID int64, proofs []reclaim.Proof) (*verigate.Step, *verigate.Session, error) {
	if len(proofs) == 0 {
		return nil, nil, verigate.FieldError("proofs", "at least one proof is required")
	}
	if len(proofs) > MaxProofs {
		return nil, nil, verigate.FieldError("proofs", fmt.Sprintf("at most %d proofs", MaxProofs))
	}
	st, sess, err := s.step(ctx, "verifications.update", stepID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if !sessionOpen(sess, now) {
		return nil, nil, verigate.Errorf(verigate.ECONFLICT, "The session is %s.", sess.Status)
	}
	if st.Type != verigate.SourceReclaim {
		return nil, nil, verigate.Errorf(verigate.EINVALID, "Step %d is a connector step; it completes through its connection, not with proofs.", st.ID)
	}
	if st.Status != verigate.StepInitiated && st.Status != verigate.StepInProgress {
		return nil, nil, verigate.Errorf(verigate.ECONFLICT, "Step %d is %s; initiate it before submitting proofs.", st.ID, st.Status)
	}
	// Input that is not a proof leaves the step as it was, whichever proof
	// of the batch it is.
	for i, p := range proofs {
		if err := reclaim.CheckShape(p); err != nil {
			return nil, nil, verigate.Errorf(verigate.EINVALID, "proofs[%d]: %s", i, err.Reason)
		}
	}
	src, err := s.sourceByID(ctx, st.DataSourceID)
	if err != nil {
		return nil, nil, err
	}
	pol := reclaim.Policy{Attestors: s.cfg.Attestors, MinSignatures: s.cfg.MinSignatures, MaxAge: s.cfg.MaxProofAge, Now: now}
	accepted := slices.Clone(src.ProviderHashes)
	if sess.Mode == verigate.ModeTest {
		pol.Attestors = append(slices.Clone(pol.Attestors), s.SandboxAttestor())
		accepted = append(accepted, sandboxProviderHash(src))
	}
	var results []map[string]any
	var records []verigate.ProofRecord
	for i, p := range proofs {
		res, verr, err := s.checkProof(ctx, p, pol, st.Nonce, src, accepted)
		if err != nil {
			return nil, nil, err
		}
		if verr != nil {
			return s.failStep(ctx, sess, st, fmt.Sprintf("proofs[%d]: %s", i, verr.Reason))
		}
		records = append(records, verigate.ProofRecord{Identifier: res.Identifier, StepID: st.ID, Signer: res.Signers[0], CreatedAt: now})
		results = append(results, map[string]any{"identifier": res.Identifier, "provider": res.Provider, "owner": res.Owner,
			"signers": res.Signers, "timestamp": res.Timestamp.Format(time.RFC3339), "extractedParameters": res.ExtractedParameters})
	}
	ch := verigate.SessionChange{Session: sess, Proofs: records}
	if err := moveStep(&ch, st, verigate.StepVerified, now); err != nil {
		return nil, nil, err
	}
	st.Results, _ = json.Marshal(map[string]any{"proofs": results})
	st.UpdatedAt = now
	ev := s.audit(ctx, "step.verify", "step", fmt.Sprint(st.ID), sess.OrgID)
	ev.Details = map[string]any{"sessionId": sess.ID, "proofs": len(records)}
	ch.Audit = append(ch.Audit, ev)
	if err := s.settle(ctx, &ch, st); err != nil {
		return nil, nil, err
	}
	if err := s.store.ApplySessionChange(ctx, ch); err != nil {
		if verigate.ErrorCode(err) == verigate.ECONFLICT && len(records) > 0 {
			return nil, nil, verigate.Errorf(verigate.EINVALID, "A proof was accepted meanwhile, or the step changed; nothing was recorded.")
		}
		return nil, nil, err
	}
	return st, sess, nil
}

// checkProof verifies one proof, refuses one accepted before, then checks
// it carries the step's nonce and comes from a provider the step's source
// accepts (in that order, so a replay says so). A *reclaim.Error is the
// proof's fault; an error is the server's.
func (s *Service) checkProof(ctx context.Context, p reclaim.Proof, pol reclaim.Policy, nonce string, src *verigate.DataSource, accepted []string) (*reclaim.Result, *reclaim.Error, error) {
	res, err := reclaim.Verify(p, pol)
	if err != nil {
		return nil, err.(*reclaim.Error), nil
	}
	used, uerr := s.store.ProofUsed(ctx, res.Identifier)
	if uerr != nil {
		return nil, nil, uerr
	}
	if used {
		return nil, &reclaim.Error{Reason: "this proof (" + res.Identifier + ") was already accepted; a proof is accepted once"}, nil
	}
	if err := reclaim.CheckNonce(res, nonce); err != nil {
		return nil, err, nil
	}
	hash, _ := res.Context["providerHash"].(string)
	switch {
	case hash == "":
		return nil, &reclaim.Error{Reason: "the proof's context names no providerHash"}, nil
	case len(accepted) == 0:
		return nil, &reclaim.Error{Reason: "source " + src.SourceName + " accepts no Reclaim provider yet (import its providerHashes)"}, nil
	case !slices.ContainsFunc(accepted, func(h string) bool { return strings.EqualFold(h, hash) }):
		return nil, &reclaim.Error{Reason: fmt.Sprintf("the proof comes from provider %q, which source %s does not accept", hash, src.SourceName)}, nil
	}
	return res, nil, nil
}

// failStep records a verification failure on a step and settles the
// session; the caller gets EINVALID with the reason.
func (s *Service) failStep(ctx context.Context, sess *verigate.Session, st *verigate.Step, reason string) (*verigate.Step, *verigate.Session, error) {
	now := s.now()
	ch := verigate.SessionChange{Session: sess}
	prev := st.FailureReason
	st.FailureReason, st.UpdatedAt = reason, now
	if err := moveStep(&ch, st, verigate.StepFailed, now); err != nil {
		st.FailureReason = prev
		return nil, nil, err
	}
	ev := s.audit(ctx, "step.fail", "step", fmt.Sprint(st.ID), sess.OrgID)
	ev.Outcome, ev.Details = verigate.OutcomeFailure, map[string]any{"sessionId": sess.ID, "reason": reason}
	ch.Audit = append(ch.Audit, ev)
	if err := s.settle(ctx, &ch, st); err != nil {
		return nil, nil, err
	}
	if err := s.store.ApplySessionChange(ctx, ch); err != nil {
		return nil, nil, err
	}
	return st, sess, verigate.Errorf(verigate.EINVALID, "Proof verification failed: %s", reason)
}

// settle adds to ch the session's move once every step has ended.
func (s *Service) settle(ctx context.Context, ch *verigate.SessionChange, changed *verigate.Step) error {
	sess := ch.Session
	sess.UpdatedAt = s.now()
	if sess.Status != verigate.SessionProcessing {
		return nil
	}
	steps, err := s.store.ListSteps(ctx, sess.ID)
	if err != nil {
		return err
	}
	for i, st := range steps {
		if st.ID == changed.ID {
			steps[i] = changed
		}
	}
	policy, _, err := s.store.ReviewPolicy(ctx, sess.OrgID)
	if err != nil {
		return err
	}
	to := settle(steps, policy)
	if to == "" {
		return nil
	}
	if err := moveSession(sess, to); err != nil {
		return err
	}
	if to.Ended() {
		now := s.now()
		sess.CompletedAt = &now
	}
	ch.Events = append(ch.Events, verigate.NewVerificationStatus(sess, s.now()))
	return nil
}
