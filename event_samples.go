package verigate

import (
	"encoding/json"
	"strings"
	"time"
)

// SampleEvent is an example event of type typ, made from example objects
// by the same constructors as real events: what a test message of that
// type sends, and what the documentation's schemas are checked against.
// Call events are always in CallMode; ok is false for a type this file
// does not make (endpoint.disabled belongs to the endpoints).
func SampleEvent(typ EventType, orgID string, mode Mode, at time.Time) (ev OutboxEvent, ok bool) {
	at = at.UTC().Truncate(time.Millisecond)
	sess := &Session{ID: 42, OrgID: orgID, Mode: mode, Status: SessionPending, ApplicantID: "applicant-1",
		Metadata: json.RawMessage(`{"reference":"sample"}`), ApplicantFirstName: "Jane", ApplicantLastName: "Doe",
		ApplicantEmail: "jane.doe@example.com"}
	stepID := int64(7)
	conn := &Connection{ID: "b9c224b3-3c2b-42bd-b23e-337ae0185690", OrgID: orgID, Mode: mode, SourceID: 5,
		SessionID: sess.ID, StepID: &stepID}
	req := &AssistanceRequest{ID: "req_sample", ConnectionID: conn.ID, Type: "otp",
		Descriptor: Descriptor{Length: 6, Type: "numeric", Purpose: "login"}, Status: AssistPending,
		CreatedAt: at, ExpiresAt: at.Add(5 * time.Minute)}
	inst := &Organization{ID: orgID, Key: "sample-cu", Kind: OrgInstitution}
	call := &PhoneCall{VoiceID: "0193a6f2-3c1e-7b8a-9d2f-1a2b3c4d5e6f", InstitutionID: orgID, PhoneNumber: "+15550102000",
		CallerName: "Jane Roe", ReceivedAt: at.Add(-time.Minute)}

	switch {
	case typ == EventVerificationCreated:
		return NewVerificationCreated(sess, at), true
	case strings.HasPrefix(string(typ), "verification."):
		for status, t := range sessionEventTypes {
			if t == typ {
				sess.Status = status
			}
		}
		if sess.Status == SessionPending {
			return OutboxEvent{}, false
		}
		if sess.Status == SessionCompleted || sess.Status == SessionRejected {
			sess.ReviewerID, sess.ReviewReason = "reviewer@example.com", "documents checked"
		}
		return NewVerificationStatus(sess, at), true
	case typ == EventStepUpdated:
		sess.Status = SessionProcessing
		st := &Step{ID: stepID, SessionID: sess.ID, DataSourceID: 3, Type: SourceReclaim, Status: StepFailed,
			FailureReason: "proofs[0]: the proof's context does not carry the step's nonce"}
		return NewStepUpdated(sess, st, at), true
	case typ == EventAssistanceRequired:
		conn.Status = ConnAwaiting
		return NewAssistanceEvent(conn, req, at), true
	case typ == EventAssistanceResolved:
		conn.Status, req.Status, req.ResolvedAt = ConnRunning, AssistFulfilled, &at
		return NewAssistanceEvent(conn, req, at), true
	case typ == EventConnectionConnected:
		conn.Status, conn.ConnectedAt = ConnConnected, &at
		return NewConnectionConnected(conn, at), true
	case typ == EventConnectionFailed:
		conn.Status, conn.FailureReason = ConnFailed, "invalid credentials"
		return NewConnectionFailed(conn, FailureLogin, at), true
	case typ == EventCallQueued, typ == EventCallAssigned, typ == EventCallEnrolled, typ == EventCallRejected:
		for status, t := range callEventTypes {
			if t == typ {
				call.Status = status
			}
		}
		reason := ""
		if call.Status != CallQueued {
			call.PersonID, call.Member = "M-1001", &Member{InstitutionID: orgID, PersonID: "M-1001", Name: "Jane Roe"}
		}
		switch call.Status {
		case CallEnrolled:
			call.Verified, call.ValidationType = true, "otp"
		case CallRejected:
			reason = "voice mismatch"
		}
		return NewCallStatus(inst, call, reason, at), true
	case typ == EventWebhookTest:
		return NewWebhookTest(orgID, mode, "ep_sample", at), true
	}
	return OutboxEvent{}, false
}
